def gen(xs):
    for x in xs:
        yield x

def bad(v):
    return v["missing"]

assert gen([1]) == fanout([1])
bad({})
# want-error: key "missing" not in dict
# want-error-line: 6
