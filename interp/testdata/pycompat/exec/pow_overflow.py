x = 10
y = 2 ** x ** 10
# want-error: OverflowError
# want-error-line: 2
