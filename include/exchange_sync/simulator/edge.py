"""What the proxies in front of an exchange answer when the exchange behind them fails.

Binance's edge answers with nginx's plain error pages; Kraken sits behind Cloudflare, whose 52x
answers are short texts (`error code: 520`) or its branded pages. Protocols pick from these for
`http_5xx` faults so clients see the bodies they see in production.
"""

from __future__ import annotations

from aiohttp import web

NGINX_PAGES = {
    502: "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n</body>\r\n</html>\r\n",
    503: "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n<body>\r\n"
    "<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n</body>\r\n</html>\r\n",
    504: "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\r\n"
    "<center><h1>504 Gateway Time-out</h1></center>\r\n</body>\r\n</html>\r\n",
}
CLOUDFLARE_CODES = (520, 521, 522, 523, 524, 525, 526)


def nginx_page(status: int) -> web.Response | None:
    page = NGINX_PAGES.get(status)
    return None if page is None else web.Response(status=status, text=page, content_type="text/html")


def cloudflare_page(status: int) -> web.Response | None:
    """Cloudflare's origin errors: `error code: 52x` as text/plain (what API clients receive)."""
    if status not in CLOUDFLARE_CODES:
        return None
    return web.Response(status=status, text=f"error code: {status}", content_type="text/plain")
