# str.format with specs, numbered, named, attribute and index fields.
x = 3.14159
assert "{:.1f}".format(x) == "3.1"
assert "{} {name:>5}|".format(1, name="ab") == "1    ab|"
assert "{0}-{1}-{0}".format("a", "b") == "a-b-a"
assert "{!r} {!s}".format("a", "b") == "'a' b"
assert "{0[k]} {0[n][1]} {1[0]}".format({"k": "v", "n": [1, 2]}, ["z"]) == "v 2 z"
assert "{:{w}}|".format("x", w=4) == "x   |"
assert "{:,}".format(1234567) == "1,234,567"
assert "{{}} {}".format(1) == "{} 1"
t = "{a}/{b}"
assert t.format(a=1, b=2) == "1/2"
kw = {"a": "A", "b": "B"}
assert t.format(**kw) == "A/B"
args = [1, 2]
assert "{}+{}".format(*args) == "1+2"
assert "{0.items}".format(fanout([1])) == "[1]"
assert ("{} "
        "{}").format(1, 2) == "1 2"
