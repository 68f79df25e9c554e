"""schemathesis hooks for scripts/contract.sh: only requests an HTTP client can send.

RFC 9110 (section 5.5) allows visible characters, spaces and tabs in a field value. A
header or cookie holding other control characters is refused by the server's HTTP layer
(hyper) with a bare 400 before any route of Certus runs, so such cases test hyper, not
the contract; they are left out here and the refusal is covered by Certus's own tests.
"""

import schemathesis


def _sendable(fields):
    if not fields:
        return True
    return all(
        not any((ord(c) < 0x20 and c != "\t") or ord(c) == 0x7F for c in str(value))
        for value in fields.values()
    )


@schemathesis.hook
def filter_headers(context, headers):
    return _sendable(headers)


@schemathesis.hook
def filter_cookies(context, cookies):
    return _sendable(cookies)
