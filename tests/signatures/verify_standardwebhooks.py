#!/usr/bin/env python3
"""Verify Ringhook webhook signatures with the Standard Webhooks reference library (PyPI
`standardwebhooks`), an implementation independent of Ringhook's.

Reads JSON lines on stdin, one per signed message:

    {"secret": "whsec_...", "id": "msg_...", "timestamp": 1614265330,
     "body": "<the exact request body, as text>", "signature": "v1,... v1,..."}

`signature` is the whole `webhook-signature` header (space-separated signatures, e.g. both the
old and the new secret's during a rotation); `timestamp` may be a number or a string (the
`webhook-timestamp` header). Each line is checked with `standardwebhooks.Webhook(secret).verify`.

By default the library's clock is pinned to each message's own timestamp, so recorded
deliveries (and simulated clocks) verify regardless of their age: the signature is what is
checked. With --check-timestamp the real clock and the library's 5-minute tolerance apply too.

Prints one line per message; exits 0 if every message verified, 1 if any failed, 2 on bad input
or if the library is missing (install it with `python3 -m pip install standardwebhooks`).
"""

import argparse
import json
import sys
from datetime import datetime as _real_datetime
from datetime import timezone

try:
    import standardwebhooks
    import standardwebhooks.webhooks as _swh_module
    from standardwebhooks import Webhook, WebhookVerificationError
except ImportError:  # pragma: no cover
    print("the `standardwebhooks` package is not installed: python3 -m pip install standardwebhooks",
          file=sys.stderr)
    sys.exit(2)


def _pinned_datetime(ts: float):
    """A `datetime` class whose now() is `ts`, for the library's timestamp check."""

    class _Pinned(_real_datetime):
        @classmethod
        def now(cls, tz=None):
            return _real_datetime.fromtimestamp(ts, tz=tz or timezone.utc)

    return _Pinned


def verify_one(msg: dict, check_timestamp: bool) -> None:
    for field in ("secret", "id", "timestamp", "body", "signature"):
        if field not in msg:
            raise ValueError(f"missing field {field!r}")
    headers = {
        "webhook-id": str(msg["id"]),
        "webhook-timestamp": str(msg["timestamp"]),
        "webhook-signature": str(msg["signature"]),
    }
    wh = Webhook(msg["secret"])
    if check_timestamp:
        wh.verify(msg["body"], headers, json_parse=False)
        return
    original = _swh_module.datetime
    _swh_module.datetime = _pinned_datetime(float(msg["timestamp"]))
    try:
        wh.verify(msg["body"], headers, json_parse=False)
    finally:
        _swh_module.datetime = original


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check-timestamp", action="store_true",
                        help="also enforce the library's 5-minute tolerance against the real clock")
    parser.add_argument("--quiet", action="store_true", help="print failures only")
    args = parser.parse_args()

    total = failed = 0
    for lineno, line in enumerate(sys.stdin, start=1):
        if not line.strip():
            continue
        try:
            msg = json.loads(line)
        except json.JSONDecodeError as e:
            print(f"line {lineno}: not JSON: {e}", file=sys.stderr)
            return 2
        total += 1
        label = f"line {lineno} id={msg.get('id')!r}"
        try:
            verify_one(msg, args.check_timestamp)
        except WebhookVerificationError as e:
            failed += 1
            print(f"FAIL {label}: {e}")
            continue
        except Exception as e:  # a malformed header or secret is a failure too
            failed += 1
            print(f"FAIL {label}: {type(e).__name__}: {e}")
            continue
        if not args.quiet:
            print(f"ok   {label}")

    version = getattr(standardwebhooks, "__version__", "?")
    print(f"standardwebhooks {version}: {total - failed}/{total} verified", file=sys.stderr)
    if total == 0:
        print("no messages on stdin", file=sys.stderr)
        return 2
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
