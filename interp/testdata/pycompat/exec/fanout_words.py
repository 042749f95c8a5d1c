# A Kaspr map that fans a sentence out into words (yield becomes fanout).
def words(value):
    for w in value["text"].split():
        if len(w) < 3:
            continue
        yield {"word": w.lower(), "len": len(w)}

out = words({"text": "The quick brown fox is here"})
assert out == fanout([
    {"word": "the", "len": 3},
    {"word": "quick", "len": 5},
    {"word": "brown", "len": 5},
    {"word": "fox", "len": 3},
    {"word": "here", "len": 4},
]), out

def until_stop(xs):
    yield "start"
    for x in xs:
        if x == "stop":
            return
        yield x

assert until_stop(["a", "stop", "b"]) == fanout(["start", "a"])
assert until_stop([]) == fanout(["start"])

def chained(xss):
    for xs in xss:
        yield from xs
    yield len(xss), "lists"

assert chained([[1, 2], [3]]) == fanout([1, 2, 3, (2, "lists")])

def nothing(x):
    if x:
        yield x

assert nothing(0) == fanout([])
def inline(x): yield x
assert inline(5) == fanout([5])
