"""Security headers on every page: what a page may load and run (CSP), and that no other site may frame it.

The pages load their scripts from /static only and hold no inline script (but
the print button's one handler, allowed by its hash), so `script-src` blocks any
script an injected name or title could carry. Inline styles stay allowed: the
bar widths and matrix shades are drawn with `style="…"` attributes, and the
print view is one self-contained page with its own `<style>` (the same file is
the HTML export); a style runs no code. `frame-ancestors 'none'` (and
X-Frame-Options for older browsers) stops another site from framing a page to
trick a click out of a signed-in teacher.

/docs and /redoc (api/docs.py) are FastAPI's pages with inline scripts and set
a policy of their own, which is kept; they get X-Frame-Options too.
"""

from __future__ import annotations

import base64
import hashlib

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The print view's button (domain/templates/print.html) is `onclick="window.print()"`: the same page is the
# downloadable HTML file, which has no /static to load a script from. Only that exact handler may run.
PRINT_BUTTON = "'sha256-" + base64.b64encode(hashlib.sha256(b"window.print()").digest()).decode() + "'"
PAGE_POLICY = "; ".join([
    "default-src 'self'",
    f"script-src 'self' 'unsafe-hashes' {PRINT_BUTTON}",
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


class SecurityHeaders:
    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", PAGE_POLICY)
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
            await send(message)

        await self.app(scope, receive, send_with_headers)
