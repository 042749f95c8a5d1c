d = {"a": 1}
del d["a"]
del d["nope"]
# want-error: KeyError: 'nope'
# want-error-line: 3
