# int(x) keeps Starlark's int (weir only takes a shorter way for ints and floats); int() is 0.
assert int() == 0
assert int(3) == 3 and type(int(3)) == "int"
assert int(2.9) == 2 and int(-2.9) == -2 and int(-0.5) == 0
assert int(True) == 1 and int(False) == 0
assert int("12") == 12 and int("ff", 16) == 255 and int("0x10", 0) == 16
assert int(1e30) == 1000000000000000019884624838656
assert int(-9.223372036854775808e18) == -9223372036854775808
assert int(9.223372036854775e18) == 9223372036854774784
assert int(9.223372036854775808e18) == 9223372036854775808
assert int(x=7) == 7
assert isinstance(5, int) and not isinstance(5.0, int)
assert str(int) == "<built-in function int>"
assert type(int) == "builtin_function_or_method"
