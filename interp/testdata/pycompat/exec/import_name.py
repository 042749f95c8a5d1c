from math import sqrt, nosuch
# want-error: ImportError: cannot import name 'nosuch' from 'math'
# want-error-line: 1
