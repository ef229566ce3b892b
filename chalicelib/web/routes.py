"""The web UI's routes: pages and assets, public (no authorizer), as a Blueprint.

Pages are one HTML shell filled with one page's markup; every URL in it is relative to the page
(``../`` per level of the route), so the same HTML works at ``/`` locally and under API
Gateway's ``/api/`` stage prefix. The script resolves everything else (the API, other pages)
from ``import.meta.url``. Assets are named by a hash of their content and cached for a year
(plus an ETag); pages are ``no-store``. Every answer carries a strict Content-Security-Policy:
no inline script or style, nothing from another origin.

chalice local sets the content type only from a header spelled exactly ``Content-Type`` and
serves a ``str`` body as JSON otherwise, hence the explicit headers on each response.
"""
from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from chalice.app import Blueprint, Response, RouteEntry

from chalicelib.api import responses

STATIC = Path(__file__).resolve().parent / "static"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
# The API's own security headers (nothing stored, no type guessed: a page may change on any
# deploy and is what names the assets), and what a browser enforces for a page: what it may
# load, and no Referer to anywhere.
SECURITY_HEADERS = {**responses.SECURITY_HEADERS, "Content-Security-Policy": CONTENT_SECURITY_POLICY,
                    "Referrer-Policy": "no-referrer"}
# A hashed asset name never changes content, so browsers may keep it.
ASSET_CACHE = "public, max-age=31536000, immutable"

# route -> (title, the file under static/pages/ with its markup)
PAGES: dict[str, tuple[str, str]] = {
    "/": ("Home", "home.html"),
    "/sign-in": ("Sign in", "sign-in.html"),
    "/settings/personal/tokens": ("Tokens", "tokens.html"),
    "/invite": ("Claim your invite", "invite.html"),
    "/settings/admin/users": ("Users", "users.html"),
    "/settings/admin/users/{user_id}": ("User", "user.html"),
    "/settings/admin/invites": ("Invites", "invites.html"),
    "/settings/admin/token-policy": ("Token policy", "token-policy.html"),
}

web = Blueprint(__name__)


def is_web_route(entry: RouteEntry) -> bool:
    """Whether a route of the app is one of the UI's (a page or an asset), not an API route."""
    return getattr(entry.view_function, "__module__", None) == __name__


@dataclass(frozen=True)
class Asset:
    """A static file as served: its hashed name, type, bytes as text and ETag."""

    name: str
    content_type: str
    text: str
    etag: str


@functools.cache
def assets() -> dict[str, Asset]:
    """The served assets by hashed name (read once per container)."""
    found = {}
    for source, content_type in (("app.js", "text/javascript; charset=utf-8"), ("app.css", "text/css; charset=utf-8")):
        text = (STATIC / source).read_text(encoding="utf-8")
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        stem, _, ext = source.partition(".")
        name = f"{stem}.{digest}.{ext}"
        found[name] = Asset(name, content_type, text, f'"{digest}"')
    return found


def asset_named(source: str) -> Asset:
    """The asset built from ``source`` (``app.js`` or ``app.css``)."""
    stem, _, ext = source.partition(".")
    return next(a for a in assets().values() if a.name.startswith(stem + ".") and a.name.endswith("." + ext))


@functools.cache
def _template(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def render_page(route: str, request_path: str | None = None) -> str:
    """The HTML of the page at ``route``, its URLs relative to ``request_path`` (the path the
    browser asked for; a trailing slash adds a level)."""
    title, markup = PAGES[route]
    depth = route.count("/") - 1
    if request_path and route != "/" and request_path.endswith("/"):
        depth += 1
    root = "../" * depth or "./"
    if route == "/" and request_path and not request_path.endswith("/"):
        # A stage's root without its slash (``/api``): relative URLs would miss the stage.
        root = request_path.rsplit("/", 1)[1] + "/"
    page = markup.removesuffix(".html")
    return (
        _template("shell.html")
        .replace("{{content}}", _template(f"pages/{markup}"))
        .replace("{{title}}", title)
        .replace("{{page}}", page)
        .replace("{{css}}", root + "assets/" + asset_named("app.css").name)
        .replace("{{js}}", root + "assets/" + asset_named("app.js").name)
        .replace("{{favicon}}", root + "favicon.ico")
        .replace("{{root}}", root)
    )


def _page_view(route: str) -> Response:
    # A route's {parameter} (a user's id) is read by the page's script from its own path.
    request = web.current_request
    path = request.context.get("path") if request is not None else None
    return Response(body=render_page(route, path), status_code=200,
                    headers={**SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8"})


def _register_page(route: str) -> None:
    def view(**_parameters: str) -> Response:
        return _page_view(route)

    name = re.sub(r"[^a-z0-9]+", "_", route.strip("/")).strip("_")
    view.__name__ = "web_page_" + (name or "root")
    web.route(route, methods=["GET"])(view)


for _route in PAGES:
    _register_page(_route)


@web.route("/assets/{name}", methods=["GET"])
def web_asset(name: str) -> Response:
    """A hashed asset; 304 when the browser already holds it, 404 for any other name."""
    asset = assets().get(name)
    if asset is None:
        return Response(body=responses.error("not_found", "No such asset."), status_code=404,
                        headers={**SECURITY_HEADERS, "Content-Type": "application/json"})
    headers: dict[str, str | list[str]] = {
        **SECURITY_HEADERS, "Content-Type": asset.content_type, "Cache-Control": ASSET_CACHE, "ETag": asset.etag,
    }
    request = web.current_request
    if request is not None and request.headers.get("if-none-match") == asset.etag:
        return Response(body="", status_code=304, headers=headers)
    return Response(body=asset.text, status_code=200, headers=headers)


# The browser asks for it whatever the page says; a small SVG (text, so no binary media types).
FAVICON = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16">'
    '<rect width="16" height="16" rx="3" fill="#1f6feb"/>'
    '<text x="8" y="12" font-size="10" text-anchor="middle" fill="#fff" font-family="sans-serif">oi</text></svg>'
)


@web.route("/favicon.ico", methods=["GET"])
def web_favicon() -> Response:
    """The icon, cached for a day."""
    return Response(body=FAVICON, status_code=200,
                    headers={**SECURITY_HEADERS, "Content-Type": "image/svg+xml",
                             "Cache-Control": "public, max-age=86400"})
