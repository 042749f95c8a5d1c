# **=, del on lists and dicts, from-import, enumerate(start=), max/min(default=).
x = 3
x **= 2
assert x == 9
d = {"k": 2, "j": [2]}
d["k"] **= 10
d["j"][0] **= 0.5
assert d["k"] == 1024 and d["j"][0] > 1.414
xs = [1, 2, 3, 4]
del xs[0]
del xs[-1]
assert xs == [2, 3]
m = {"a": {"b": 1, "c": 2}}
del m["a"]["b"]
assert m == {"a": {"c": 2}}
from math import sqrt, pi as PI
assert sqrt(4) == 2 and PI > 3
assert list(enumerate(["a", "b"], start=1)) == [(1, "a"), (2, "b")]
assert list(enumerate(["a"], 5)) == [(5, "a")]
assert max([], default=0) == 0 and min([], default=None) == None
assert max([1, 3, 2], default=0) == 3 and min([4, 2], key=lambda v: -v) == 4
assert max(["aa", "b"], key=len) == "aa" and max(1, 5, 2) == 5 and max([1, 2], key=None) == 2
