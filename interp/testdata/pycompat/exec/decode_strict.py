# Invalid UTF-8 fails with Python's UnicodeDecodeError.
ok = b"ok".decode()
bad = b"ab\xe2\x82".decode("utf-8")
# want-error: UnicodeDecodeError: 'utf-8' codec can't decode bytes in position 2-3: unexpected end of data
# want-error-line: 3
