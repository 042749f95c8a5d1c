# Rewrites of expressions, checked by running them.
x = 5
assert 0 <= x < 10
assert not 0 <= x < 5
assert 1 < 2 < 3 < 4
assert 1 == 1 == 1
assert not (1 == 1 == 2)
assert 1 in [1] not in [[2]]
assert x is not None
y = None
assert y is None

assert 2 ** 10 == 1024
assert -2 ** 2 == -4
assert 2 ** 3 ** 2 == 512
assert 2 ** -1 == 0.5
assert (1 + 1) ** 2 * 3 == 12
assert [3][0] ** 2 == 9
assert 2.0 ** 0.5 > 1.41

s = {1, 2, 2, 3}
assert len(s) == 3 and 2 in s
assert {x % 3 for x in range(10)} == set([0, 1, 2])
assert {} == dict()
assert sum(x * 2 for x in [1, 2, 3]) == 12
assert list((x for x in [1, 2])) == [1, 2]
assert any(v is None for v in [1, None])
assert max(len(w) for w in ["a", "abc"]) == 3

d = {"a": 1, "b": 2, "c": 3}
del d["a"], d["b"]
assert d == {"c": 3}
m = {"k": {"j": 1, "i": 2}}
del m["k"]["j"]
assert m == {"k": {"i": 2}}

p = "\d+"
assert len(p) == 3
assert "caf\xe9" == "café"
assert 1_000 == 1000
