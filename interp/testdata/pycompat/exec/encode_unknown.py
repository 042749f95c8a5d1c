x = "x".encode("ebcdic")
# want-error: LookupError: unknown encoding: ebcdic
# want-error-line: 1
