# printf-style % on string literals and names bound to them.
x = 2.5
assert "%.2f EUR" % x == "2.50 EUR"
assert "%5d|%-8s|" % (42, "ab") == "   42|ab      |"
assert "%(name)s is %(age)03d" % {"name": "Ann", "age": 7} == "Ann is 007"
assert "%s" % [1, "a"] == "[1, 'a']"
assert "%r" % "a" == "'a'"
assert "%x/%X/%#o" % (255, 255, 8) == "ff/FF/0o10"
assert "%+.1e" % 12345.0 == "+1.2e+04"
assert "%d%%" % 50 == "50%"
assert "a" + "%03d" % 7 + "b" == "a007b"
assert "%s-%s" % ("x", "y") * 2 == "x-yx-y"
assert "%d" % 2 ** 3 == "8"
assert "%s%%%%" % "a" % () == "a%"
assert "%*.*f|" % (8, 2, 3.14159) == "    3.14|"
FMT = "%08.3f"
def money(v):
    return FMT % v
assert money(3.14159) == "0003.142"

# int modulo is untouched, also through a name once bound to a string
n = 17
assert n % 5 == 2 and (n + 1) % 4 == 2 and [7][0] % 4 == 3
FMT2 = "%d"
FMT2 = 10
assert FMT2 % 3 == 1
d = {k: "%03d" % v for k, v in {"a": 1, "b": 22}.items()}
assert d == {"a": "001", "b": "022"}
assert ["%s" % w[1:3] for w in ["abcd"]] == ["bc"]
assert "%s|%s" % ("x" if n > 3 else "y", "%.1f" % 0.25) == "x|0.2"
assert "{}".format("%5.1f" % 2.25) == "  2.2"
