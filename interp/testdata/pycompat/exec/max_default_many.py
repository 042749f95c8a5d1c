m = max(1, 2, default=0)
# want-error: TypeError: Cannot specify a default for max() with multiple positional arguments
# want-error-line: 1
