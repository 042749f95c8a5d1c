# The builtins the layer adds.
assert sum([1, 2, 3]) == 6
assert sum([0.5, 0.25], 1) == 1.75
assert sum([[1], [2]], []) == [1, 2]

assert round(2.5) == 2 and round(3.5) == 4 and round(-2.5) == -2
assert round(0.125, 2) == 0.12
assert round(2.675, 2) == 2.67
assert round(1234.5678, 1) == 1234.6
assert round(1250, -2) == 1200 and round(1350, -2) == 1400
assert type(round(2.6)) == "int"
assert type(round(2.6, 0)) == "float"

assert isinstance("s", str) and isinstance(1, int) and isinstance(True, int)
assert isinstance(1.5, (int, float)) and not isinstance("1", (int, float))
assert isinstance([], list) and isinstance({}, dict) and isinstance((1,), tuple)
assert not isinstance(None, dict)

assert divmod(7, 2) == (3, 1)
assert divmod(-7, 2) == (-4, 1)
assert divmod(7.5, 2) == (3.0, 1.5)

assert pow(2, 100) == 1267650600228229401496703205376
assert pow(2, -2) == 0.25
assert pow(3, 4, 5) == 1
assert pow(4.0, 0.5) == 2.0
assert abs(-3) == 3

assert map(str, [1, 2]) == ["1", "2"]
assert filter(None, [0, 1, "", "a"]) == [1, "a"]
assert filter(lambda v: v > 1, [1, 2, 3]) == [2, 3]
