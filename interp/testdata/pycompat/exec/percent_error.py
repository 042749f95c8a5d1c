def f(v):
    return "%d items" % v

f("three")
# want-error: TypeError: %d format: a real number is required, not str
# want-error-line: 2
