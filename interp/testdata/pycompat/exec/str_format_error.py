s = "{} {}".format(1)
# want-error: IndexError: Replacement index 1 out of range for positional args tuple
# want-error-line: 1
