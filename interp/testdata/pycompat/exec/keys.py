# Building record keys and messages with f-strings.
def key_of(value):
    region = value["region"].lower()
    return f"{region}:{value['customer']['id']:>06}:{value['ts'] // 1000}"

v = {"region": "EU", "customer": {"id": 42}, "ts": 1700000000123}
assert key_of(v) == "eu:000042:1700000000", key_of(v)

total = 1234567.891
assert f"{total:,.2f}" == "1,234,567.89"
assert f"{0.256:.1%}" == "25.6%"
assert f"{42:x} {42:#b} {42:o}" == "2a 0b101010 52"
assert f"{'ab':*^6}|{'ab':<4}|{'ab':>4}" == "**ab**|ab  |  ab"
assert f"{3.14159:{8}.{3}f}" == "   3.142"
assert f"{'x'!r}" == "'x'"
assert f"{{}} {1}" == "{} 1"
name = "Ada"
assert f"{name=}" == "name='Ada'"
assert f"{-7:+d} {7:+d} {-0.0:z.1f}" == "-7 +7 0.0"
assert f"""{name}
{name.upper()}""" == "Ada\nADA"
assert ("a" f"{1}" "c") == "a1c"
