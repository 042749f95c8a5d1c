# str.encode and bytes.decode.
import json
s = "café"
b = s.encode()
assert b == b"caf\xc3\xa9" and len(b) == 5
assert s.encode("utf-8") == b and s.encode(encoding="UTF8") == b
assert b.decode() == s and b.decode("utf-8") == s
assert b"\xff".decode("utf-8", errors="replace") == "\ufffd"
assert b"a\xffb\xe2\x82c".decode("utf-8", "replace") == "a\ufffdb\ufffdc"
assert b"a\xffb".decode("utf-8", errors="ignore") == "ab"
assert b"a\xffb".decode(errors="backslashreplace") == "a\\xffb"
assert "é".encode("latin-1") == b"\xe9" and b"\xe9".decode("latin-1") == "é"
assert "aé€".encode("ascii", "replace") == b"a??"
assert "aé".encode("ascii", errors="xmlcharrefreplace") == b"a&#233;"
assert ("x" + s).encode()[1:] == b
assert "{}!".format(s).encode().decode() == s + "!"
assert json.decode(json.encode({"k": s.encode().decode()})) == {"k": s}
