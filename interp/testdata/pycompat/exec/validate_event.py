# A Kaspr filter/map that validates an order event and collects errors.
import json
from math import floor

REQUIRED = ("id", "customer", "items")

def validate(value):
    errors = []
    for field in REQUIRED:
        if value.get(field) is None:
            errors.append(f"missing field {field!r}")
    customer = value.get("customer") or {}
    if not 0 < customer.get("age", 0) <= 130:
        errors.append(f"bad age: {customer.get('age')}")
    for i, item in enumerate(value.get("items", [])):
        if not isinstance(item.get("qty"), int):
            errors.append(f"items[{i}].qty is not an int")
        elif item["qty"] <= 0:
            errors.append(f"items[{i}].qty must be positive, got {item['qty']}")
    if errors:
        return {**value, "valid": False, "errors": errors}
    return {**value, "valid": True}

good = validate(json.decode('{"id": "o1", "customer": {"age": 30}, "items": [{"qty": 2}]}'))
assert good["valid"] is True, good
assert "errors" not in good

bad = validate({"customer": {"age": 200}, "items": [{"qty": "2"}, {"qty": 0}]})
assert bad["valid"] is False
assert bad["errors"] == [
    "missing field 'id'",
    "bad age: 200",
    "items[0].qty is not an int",
    "items[1].qty must be positive, got 0",
], bad["errors"]
assert floor(2.7) == 2
