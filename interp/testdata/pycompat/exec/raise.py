def check(value):
    if value.get("id") is None:
        raise ValueError(f"missing id in {value!r}")
    return value

check({"id": 1})
check({"name": "x"})
# want-error: ValueError: missing id in {'name': 'x'}
# want-error-line: 3
