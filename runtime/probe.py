"""Container health probe: is this container's service ready? No curl in the image, so:

    python -m runtime.probe                 # the one service listening here, on its default port
    python -m runtime.probe reports         # a service by name (its CONGDOAN_<NAME>_HTTP_PORT)
    python -m runtime.probe 8082 [/healthz] # a port, and a path (default /readyz)

Exit 0 when the answer is 200, 1 otherwise (Docker's and Compose's healthcheck convention).
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

from runtime.settings import DEFAULT_HTTP_PORTS

# The web front-end is no runtime service but runs from the same image.
PORTS = {**DEFAULT_HTTP_PORTS, "web": 8080}


def port_of(name: str) -> int:
    return int(os.environ.get(f"CONGDOAN_{name.upper()}_HTTP_PORT", PORTS[name]))


def status(port: int, path: str = "/readyz", timeout: float = 2.0) -> int | None:
    """The HTTP status on 127.0.0.1:port, None when nothing listens."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return int(r.status)
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = args[1] if len(args) > 1 else "/readyz"
    if args:
        target = args[0]
        ports = [int(target)] if target.isdigit() else [port_of(target)]
    else:
        ports = [port_of(name) for name in PORTS]
    for port in ports:
        code = status(port, path)
        if code is not None:
            return 0 if code == 200 else 1
    return 1


if __name__ == "__main__":
    sys.exit(main())
