"""Drive the real `bintray-python` client (its own virtualenv: it pins an old `requests`).

Run with that virtualenv's interpreter; reads one JSON request per line on stdin —
``{"base": url, "username": u, "api_key": k, "method": name, "args": [...], "kwargs": {...}}`` —
calls ``Bintray(username, api_key).<method>(*args, **kwargs)`` against ``base`` and answers one
JSON line: ``{"result": ...}`` or ``{"error": "..."}`` (the client raises on HTTP errors).
"""

import json
import sys

from bintray.bintray import Bintray

for line in sys.stdin:
    request = json.loads(line)
    Bintray.BINTRAY_URL = request["base"]
    try:
        client = Bintray(request.get("username"), request.get("api_key"))
        result = getattr(client, request["method"])(*request.get("args", []), **request.get("kwargs", {}))
        answer = {"result": result if not isinstance(result, bytes) else result.decode(errors="replace")}
    except Exception as exc:  # the client reports HTTP failures as plain Exceptions
        answer = {"error": str(exc)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
