# A Kaspr map that enriches an event with dict unpacking.
DEFAULTS = {"source": "web", "priority": 0}

def enrich(value):
    meta = {"seen": True}
    out = {**DEFAULTS, **value, "meta": {**value.get("meta", {}), **meta}, "score": value["n"] ** 2}
    del out["tmp"]
    return out

e = enrich({"n": 3, "priority": 5, "tmp": "x", "meta": {"a": 1}})
assert e == {"source": "web", "priority": 5, "n": 3, "meta": {"a": 1, "seen": True}, "score": 9}, e
assert list(e.keys()) == ["source", "priority", "n", "meta", "score"]
