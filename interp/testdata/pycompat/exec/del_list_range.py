xs = [1]
del xs[1]
# want-error: IndexError: list assignment index out of range
# want-error-line: 2
