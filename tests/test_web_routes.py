"""The web UI's pages and assets as the app serves them (no browser): status, type, the
security headers, caching, and that `chalice package` ships the static files."""
from __future__ import annotations

import os
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from chalice.test import Client

import app as app_module
from chalicelib.web import routes
from chalicelib.web.routes import PAGES, STATIC, is_web_route

from .conftest import ROOT

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


# A page route with a parameter, asked for as a browser would (a user's page: any id; the page's
# script asks the API about it).
def concrete(route: str) -> str:
    return route.replace("{user_id}", "usr_01m9104032pa67kp3fg8mpsha9")


@pytest.fixture
def http() -> Iterator[object]:
    with Client(app_module.app) as client:
        yield client.http


def asset_links(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]*assets/[^"]+)"', html)


@pytest.mark.parametrize("path", sorted(PAGES))
def test_every_page_is_html_with_the_security_headers_and_never_stored(http, path: str) -> None:
    response = http.get(concrete(path))
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert SECURITY.items() <= response.headers.items()
    assert response.headers["Cache-Control"] == "no-store"
    html = response.body.decode()
    assert html.startswith("<!doctype html>")
    assert "{{" not in html


@pytest.mark.parametrize("path", sorted(PAGES))
def test_a_page_loads_one_script_and_one_stylesheet_from_this_origin_and_nothing_inline(http, path: str) -> None:
    html = http.get(concrete(path)).body.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) == 1 and 'type="module"' in scripts[0] and "src=" in scripts[0]
    assert re.search(r"<script\b[^>]*></script>", html)  # nothing inline
    assert len(re.findall(r'rel="stylesheet"', html)) == 1
    assert "<style" not in html and " style=" not in html
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert "http://" not in html and "https://" not in html and "//" not in "".join(asset_links(html))
    depth = path.count("/") - 1
    prefix = "../" * depth or "./"
    assert all(link.startswith(prefix + "assets/") for link in asset_links(html))


def test_urls_in_a_page_follow_a_trailing_slash() -> None:
    html = routes.render_page("/settings/personal/tokens", "/settings/personal/tokens/")
    assert set(asset_links(html)) == {f"../../../assets/{routes.asset_named(n).name}" for n in ("app.js", "app.css")}
    staged = routes.render_page("/sign-in", "/api/sign-in")  # API Gateway's stage prefix: still relative
    assert all(link.startswith("./assets/") for link in asset_links(staged))
    bare_stage = routes.render_page("/", "/api")  # https://…/api: API Gateway's stage root without its slash
    assert all(link.startswith("api/assets/") for link in asset_links(bare_stage))
    assert all(link.startswith("./assets/") for link in asset_links(routes.render_page("/", "/")))


@pytest.mark.parametrize(("source", "content_type"), [("app.js", "text/javascript; charset=utf-8"),
                                                       ("app.css", "text/css; charset=utf-8")])
def test_assets_are_named_by_content_and_cached_with_an_etag(http, source: str, content_type: str) -> None:
    asset = routes.asset_named(source)
    text = (STATIC / source).read_text()
    assert asset.text == text
    response = http.get(f"/assets/{asset.name}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == content_type
    assert SECURITY.items() <= response.headers.items()
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    etag = response.headers["ETag"]
    assert etag.strip('"') in asset.name
    assert response.body.decode() == text
    again = http.get(f"/assets/{asset.name}", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.body == b""
    assert again.headers["ETag"] == etag


@pytest.mark.parametrize("name", ["app.js", "app.css", "app.0000000000000000.js", "..%2Fapp.py", "shell.html"])
def test_only_the_hashed_assets_are_served(http, name: str) -> None:
    response = http.get(f"/assets/{name}")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


def test_the_favicon_is_served(http) -> None:
    response = http.get("/favicon.ico")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "image/svg+xml"
    assert SECURITY.items() <= response.headers.items()
    assert response.body.decode().startswith("<svg")


def test_the_ui_routes_are_public_gets_outside_the_api_requirements() -> None:
    web = {(path, method) for path, methods in app_module.app.routes.items()
           for method, entry in methods.items() if is_web_route(entry)}
    assert web == {(path, "GET") for path in PAGES} | {("/assets/{name}", "GET"), ("/favicon.ico", "GET")}
    for path, method in web:
        assert app_module.app.routes[path][method].authorizer is None
        assert (path, method) not in app_module.NEEDS
    # The API's routes are still the API's.
    assert not is_web_route(app_module.app.routes["/me"]["GET"])


def test_the_api_keeps_its_own_headers(http) -> None:
    response = http.get("/health")
    assert response.headers["Cache-Control"] == "no-store"
    assert "Content-Security-Policy" not in response.headers


@pytest.mark.slow
@pytest.mark.xdist_group("chalice_package")  # with test_infra's: they share .chalice/deployments/
def test_chalice_package_ships_the_static_files(tmp_path: Path) -> None:
    chalice = ROOT / ".venv-lambda" / "bin" / "chalice"
    if not chalice.exists():
        pytest.skip("no .venv-lambda (make test builds it)")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run([str(chalice), "package", "--stage", "dev", str(tmp_path / "out")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    names = set(zipfile.ZipFile(tmp_path / "out" / "deployment.zip").namelist())
    shipped = {str(p.relative_to(ROOT)) for p in STATIC.rglob("*") if p.is_file()}
    assert shipped and shipped <= names, sorted(shipped - names)


def test_the_pages_name_the_same_admin_families_as_the_route_map() -> None:
    """The create form gives a custom grant naming an admin family an admin token's limits, as the
    API stores it: its list of admin families is the route map's."""
    from chalicelib.model.families import FAMILIES

    script = (STATIC / "app.js").read_text()
    named = re.search(r"const ADMIN_FAMILIES = \[([^\]]*)\];", script)
    assert named is not None
    assert re.findall(r'"(\w+)"', named.group(1)) == [family.name for family in FAMILIES if family.admin]
