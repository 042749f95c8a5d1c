x = 3
assert x > 5, f"x is {x}"
# want-error: AssertionError: x is 3
# want-error-line: 2
