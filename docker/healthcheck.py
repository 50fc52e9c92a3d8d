#!/usr/bin/env python3
"""Container health check without curl (the slim image has none): `healthcheck.py URL [MAX_STATUS]`.

Healthy when URL answers with an HTTP status below MAX_STATUS (default 400) within 10 seconds."""
import sys
import urllib.error
import urllib.request


def main() -> int:
    url = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            status = resp.status
    except urllib.error.HTTPError as err:
        status = err.code
    except OSError as err:
        print(f"unhealthy: {url}: {err}", file=sys.stderr)
        return 1
    return 0 if status < limit else 1


if __name__ == "__main__":
    sys.exit(main())
