import json
import requests
# want-error: no module named "requests"
# want-error-line: 2
