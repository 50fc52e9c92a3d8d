"""What the application learns from the connection: the client's address and whether it is HTTPS.

``TransportSecurity`` is the outermost middleware. From a trusted reverse proxy
(``SUPERVISION_REVIEW_TRUSTED_PROXIES``: addresses or networks) it believes ``X-Forwarded-For`` and
``X-Forwarded-Proto`` (uvicorn's ``ProxyHeadersMiddleware``, which takes the right-most address no
trusted proxy added), so the login throttle counts per client rather than per proxy; from anyone
else those headers are ignored. A request that is HTTPS (directly, through a trusted proxy, or
always with ``SUPERVISION_REVIEW_HTTPS_ONLY``) gets ``Secure`` on every cookie it is sent and a
``Strict-Transport-Security`` header; over plain HTTP the demo keeps working without them.
"""
from __future__ import annotations

from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

HSTS = b"max-age=31536000"


class TransportSecurity:
    def __init__(self, app, trusted_proxies: list[str] | None = None, https_only: bool = False):
        inner = _SecureResponses(app, https_only)
        self.app = ProxyHeadersMiddleware(inner, trusted_hosts=list(trusted_proxies)) if trusted_proxies else inner

    async def __call__(self, scope, receive, send):
        await self.app(scope, receive, send)


class _SecureResponses:
    def __init__(self, app, https_only: bool):
        self.app = app
        self.https_only = https_only

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not (self.https_only or scope.get("scheme") == "https"):
            await self.app(scope, receive, send)
            return

        async def send_secure(message):
            if message["type"] == "http.response.start":
                headers = [(k, _secure_cookie(v) if k.lower() == b"set-cookie" else v)
                           for k, v in message.get("headers", [])]
                if not any(k.lower() == b"strict-transport-security" for k, _ in headers):
                    headers.append((b"strict-transport-security", HSTS))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_secure)


def _secure_cookie(value: bytes) -> bytes:
    attributes = {a.strip().lower() for a in value.split(b";")[1:]}
    return value if b"secure" in attributes else value + b"; Secure"
