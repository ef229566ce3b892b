"""The web UI in a real browser (Playwright driving Debian's Chromium) against the real local
stack, as `make run` serves it. Skipped only when there is no Chromium at CHROMIUM.

Screenshots go to a temporary folder; UPDATE_SCREENSHOTS=1 copies the README's into
docs/screenshots/ (so `make test` leaves the checkout clean).
"""
from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from .test_make_run_e2e import ROOT, Stack, call, free_port, launch, raw_call, stop

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/lib/chromium/chromium")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
TOKENS = "settings/personal/tokens"
POLICY = "settings/admin/token-policy"
PAGES = ["", "sign-in", TOKENS, "invite", "settings/admin/users", "settings/admin/invites", POLICY]
SCREENSHOTS = ROOT / "docs" / "screenshots"

if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y --no-install-recommends chromium "
                "fonts-liberation)", allow_module_level=True)

from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    port = free_port()
    state = tmp_path_factory.mktemp("web-state")
    # No per-client limits: the tests claim a dozen invites from 127.0.0.1, faster than a person would.
    started = launch([str(ROOT / ".venv" / "bin" / "openindex-local"), "--port", str(port), "--no-autoreload",
                      "--no-client-limits", "--state-dir", str(state)], ROOT, port)
    assert started.token is not None
    yield started
    stop(started)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield launched
        launched.close()


@dataclass
class Tab:
    """A page in a context of its own (its own sessionStorage), with what its console said."""

    page: Page
    base: str
    console: list[tuple[str, str]] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def open(self, path: str) -> Any:
        return self.page.goto(self.base + "/" + path)

    def errors(self) -> list[str]:
        return [text for kind, text in self.console if kind in ("error", "pageerror")]

    def storage(self) -> dict[str, Any]:
        return self.page.evaluate(
            "() => ({session: sessionStorage.length, local: localStorage.length, cookie: document.cookie})")


@pytest.fixture
def tabs(browser: Browser, stack: Stack) -> Iterator[Any]:
    contexts: list[BrowserContext] = []

    def new_tab() -> Tab:
        context = browser.new_context(viewport={"width": 1200, "height": 800}, locale="en-GB",
                                      timezone_id="UTC")
        contexts.append(context)
        page = context.new_page()
        tab = Tab(page, stack.base_url)
        page.on("console", lambda message: tab.console.append((message.type, message.text)))
        page.on("pageerror", lambda error: tab.console.append(("pageerror", str(error))))
        page.on("request", lambda request: tab.requests.append(request.url))
        return tab

    yield new_tab
    for context in contexts:
        context.close()


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[Any]:
    taken: list[Path] = []

    def shoot(tab: Tab, name: str) -> None:
        target = tmp_path / f"{name}.png"
        # The one-time values are masked: no token-shaped string lands in the repository.
        tab.page.screenshot(path=str(target), full_page=True, mask=[tab.page.locator("input[readonly]")],
                             mask_color="#d0d7de")
        taken.append(target)

    yield shoot
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        for path in taken:
            shutil.copy(path, SCREENSHOTS / path.name)


def sign_in(tab: Tab, token: str) -> None:
    tab.open("sign-in")
    tab.page.get_by_label("Personal access token").fill(token)
    tab.page.get_by_role("button", name="Sign in").click()
    tab.page.wait_for_url(f"**/{TOKENS}")
    expect(tab.page.get_by_role("heading", name="Personal access tokens")).to_be_visible()


def assert_no_token_outside_the_one_time_field(tab: Tab, *tokens: str) -> None:
    html = tab.page.content()
    shown = tab.page.evaluate("() => [...document.querySelectorAll('input')].map(i => i.value).join(' ')")
    console = " ".join(text for _, text in tab.console)
    for token in tokens:
        assert token not in html and token not in console and token not in tab.page.url
        assert token not in shown or tab.page.locator("#new-token").input_value() == token


def member_pat(stack: Stack, name: str) -> dict[str, Any]:
    status, created = call(stack, "POST", "/me/pats", stack.token, {"name": name, "scope": "read_write"})
    assert status == 201
    return created


def test_root_sends_a_tab_without_a_token_to_sign_in_and_a_good_token_signs_in(tabs, stack: Stack, shots) -> None:
    tab = tabs()
    tab.open("")
    tab.page.wait_for_url("**/sign-in")
    shots(tab, "sign-in")
    assert tab.storage() == {"session": 0, "local": 0, "cookie": ""}
    sign_in(tab, stack.token)
    expect(tab.page.get_by_role("navigation", name="Breadcrumb")).to_have_text("Settings → Personal → Tokens")
    expect(tab.page.get_by_text("admin@example.com")).to_be_visible()
    assert tab.storage() == {"session": 1, "local": 0, "cookie": ""}
    assert_no_token_outside_the_one_time_field(tab, stack.token)
    tab.open("")  # now with a token: the tokens page
    tab.page.wait_for_url(f"**/{TOKENS}")

    tab.page.get_by_role("button", name="Sign out").click()
    tab.page.wait_for_url("**/sign-in")
    assert tab.storage() == {"session": 0, "local": 0, "cookie": ""}
    tab.open(TOKENS)  # signed out: back to sign-in
    tab.page.wait_for_url("**/sign-in")
    expect(tab.page.get_by_role("alert")).to_have_text("Sign in to continue.")


@pytest.mark.parametrize("kind", ["unknown", "run"])
def test_a_bad_token_or_a_run_token_is_refused_in_words(tabs, stack: Stack, kind: str) -> None:
    if kind == "unknown":
        token, expected = "oi_pat_not-a-token", "That token was refused"
    else:
        minter = member_pat(stack, "run-minter")
        status, run = call(stack, "POST", "/workflows/agent-run-tokens", minter["token"], {"agentId": "agent-1"})
        assert status == 201
        token, expected = run["token"], "workflow agent run token"
    tab = tabs()
    tab.open("sign-in")
    tab.page.get_by_label("Personal access token").fill(token)
    tab.page.get_by_role("button", name="Sign in").click()
    expect(tab.page.get_by_role("alert")).to_contain_text(expected)
    assert tab.page.url.endswith("/sign-in")
    assert tab.page.get_by_label("Personal access token").input_value() == ""
    assert tab.storage() == {"session": 0, "local": 0, "cookie": ""}
    assert_no_token_outside_the_one_time_field(tab, token)


def test_create_tokens_shown_once_then_listed_without_their_value_and_delete_after_confirming(
    tabs, stack: Stack, shots
) -> None:
    tab = tabs()
    sign_in(tab, stack.token)
    page = tab.page
    expect(page.get_by_label("Scope").locator("option")).to_have_text([re.compile("^read_write"),
                                                                        re.compile("^admin")])
    page.get_by_label("Name").fill("ci-forever")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New token", exact=True)).to_have_value(re.compile("^oi_pat_"))
    forever = page.get_by_label("New token", exact=True).input_value()
    assert forever.startswith("oi_pat_")
    expect(page.get_by_text("shown only once")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="ci-forever")
    expect(row).to_contain_text("never")

    page.get_by_label("Name").fill("ci-twelve-days")
    page.get_by_label("Expires").fill((date.today() + timedelta(days=12)).isoformat())
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New token", exact=True)).not_to_have_value(forever)
    twelve = page.get_by_label("New token", exact=True).input_value()
    expect(page.get_by_role("row").filter(has_text="ci-twelve-days")).to_contain_text("in 12 days")
    shots(tab, "tokens")
    assert call(stack, "GET", "/me", twelve)[1]["token"]["name"] == "ci-twelve-days"

    page.reload()
    expect(page.get_by_role("row").filter(has_text="ci-twelve-days")).to_be_visible()
    expect(page.get_by_label("New token", exact=True)).to_be_hidden()
    assert_no_token_outside_the_one_time_field(tab, forever, twelve, stack.token)

    delete = page.get_by_role("button", name="Delete ci-forever", exact=True)
    delete.click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(row).to_be_visible()
    assert call(stack, "GET", "/me", forever)[0] == 200
    delete.click()
    shots(tab, "delete-confirm")
    dialog.get_by_role("button", name="Delete").click()
    expect(row).to_have_count(0)
    assert call(stack, "GET", "/me", forever)[0] == 401
    assert tab.storage()["local"] == 0 and tab.storage()["cookie"] == ""
    assert tab.errors() == []


def test_a_token_can_be_created_with_the_keyboard_only(tabs, stack: Stack) -> None:
    tab = tabs()
    sign_in(tab, stack.token)
    page = tab.page
    # The page wires its form after GET /me: until then the button is disabled (out of the tab
    # order) and the admin choice is not offered. A person sees that; the test waits for it.
    expect(page.get_by_role("button", name="Create token")).to_be_enabled()
    expect(page.locator("#scope option[value=admin]")).to_have_count(1)
    for _ in range(30):
        if page.evaluate("document.activeElement.id") == "name":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "name"
    page.keyboard.type("typed-by-keyboard")
    page.keyboard.press("Tab")  # Scope
    page.keyboard.press("ArrowDown")  # admin, the second choice
    page.keyboard.press("Tab")  # Expires
    page.keyboard.press("Tab")  # Create token
    page.keyboard.press("Enter")
    expect(page.get_by_label("New token", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Copy")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("[data-copied]").first).not_to_be_empty()
    expect(page.get_by_role("row").filter(has_text="typed-by-keyboard")).to_contain_text("admin")


def test_an_invite_link_is_claimed_once_and_the_colleague_is_signed_out_when_deactivated(
    tabs, stack: Stack, shots
) -> None:
    admin = tabs()
    sign_in(admin, stack.token)
    admin.open("settings/admin/invites")
    admin.page.get_by_label("Email").fill("colleague@example.com")
    admin.page.get_by_role("button", name="Invite").click()
    expect(admin.page.get_by_label("Invite link", exact=True)).to_have_value(re.compile("#token="))
    link = admin.page.get_by_label("Invite link", exact=True).input_value()
    assert re.fullmatch(re.escape(stack.base_url) + r"/invite#token=oi_inv_\S+", link)
    invited = admin.page.get_by_role("row").filter(has_text="colleague@example.com")
    expect(invited).to_contain_text("in 7 days")
    expect(invited.locator(".warn")).to_have_count(0)  # every invite lives 7 days: no token-style warning
    shots(admin, "invites")
    invite_token = link.partition("#token=")[2]

    colleague = tabs()
    colleague.page.goto(link)
    expect(colleague.page.get_by_role("button", name="Claim invite")).to_be_visible()
    assert "#" not in colleague.page.url and colleague.page.url.endswith("/invite")
    assert colleague.page.evaluate("location.hash") == ""
    colleague.page.get_by_role("button", name="Claim invite").click()
    expect(colleague.page.get_by_label("New token", exact=True)).to_have_value(re.compile("^oi_pat_"))
    expect(colleague.page.get_by_text("colleague@example.com")).to_be_visible()
    expect(colleague.page.locator("[data-claimed-role]")).to_have_text("member")
    first = colleague.page.get_by_label("New token", exact=True).input_value()
    assert first.startswith("oi_pat_")
    shots(colleague, "invite-claimed")
    colleague.page.get_by_role("button", name="Continue").click()
    colleague.page.wait_for_url(f"**/{TOKENS}")
    expect(colleague.page.get_by_text("colleague@example.com")).to_be_visible()
    assert_no_token_outside_the_one_time_field(colleague, first, invite_token)

    again = tabs()
    again.page.goto(link)
    again.page.get_by_role("button", name="Claim invite").click()
    expect(again.page.get_by_role("alert")).to_contain_text("already used")
    expect(again.page.get_by_role("link", name="Go to sign in")).to_be_visible()

    admin.open("settings/admin/users")
    row = admin.page.get_by_role("row").filter(has_text="colleague@example.com")
    expect(row).to_contain_text("active")
    shots(admin, "users")
    admin.page.get_by_role("button", name="Deactivate colleague@example.com").click()
    admin.page.get_by_role("dialog").get_by_role("button", name="Deactivate").click()
    expect(row).to_contain_text("deactivated")
    expect(admin.page.get_by_role("button", name="Reactivate colleague@example.com")).to_be_visible()

    colleague.page.get_by_label("Name").fill("after-deactivation")
    colleague.page.get_by_role("button", name="Create token").click()
    colleague.page.wait_for_url("**/sign-in")
    expect(colleague.page.get_by_role("alert")).to_contain_text("You were signed out")
    assert colleague.storage() == {"session": 0, "local": 0, "cookie": ""}


def test_the_last_admin_cannot_be_made_a_member(tabs, stack: Stack) -> None:
    tab = tabs()
    sign_in(tab, stack.token)
    tab.open("settings/admin/users")
    tab.page.get_by_role("button", name="Make member admin@example.com").click()
    expect(tab.page.get_by_role("alert")).to_contain_text("last active admin")
    expect(tab.page.get_by_role("row").filter(has_text="admin@example.com")).to_contain_text("admin")


def test_every_page_has_the_csp_loads_in_three_requests_and_logs_no_error(tabs, stack: Stack) -> None:
    public = tabs()
    for path in ["sign-in", "invite"]:  # signed out
        public.requests.clear()
        response = public.open(path)
        public.page.wait_for_load_state("networkidle")
        assert response is not None and response.headers["content-security-policy"] == CSP
        assert len(public.requests) <= 3, public.requests
    assert public.errors() == []
    tab = tabs()
    sign_in(tab, stack.token)
    for path in PAGES:
        tab.requests.clear()
        response = tab.open(path)
        tab.page.wait_for_load_state("networkidle")
        assert response is not None and response.headers["content-security-policy"] == CSP
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        if tab.page.url == f"{stack.base_url}/{path}":  # not "/", nor sign-in once signed in: they send the tab on
            own = [u for u in tab.requests if "/assets/" in u or u == f"{stack.base_url}/{path}"]
            assert len(own) <= 3, tab.requests
        assert all(u.startswith(stack.base_url + "/") for u in tab.requests), tab.requests
    assert tab.errors() == []


def claimed_member(stack: Stack, email: str) -> dict[str, Any]:
    """A member account made through the API: {"user": …, "pat": …}."""
    status, sent = call(stack, "POST", "/admin/invites", stack.token, {"email": email})
    assert status == 201
    status, claimed = call(stack, "POST", "/auth/invites/claim", None, {"token": sent["token"]})
    assert status == 201
    return claimed


def test_a_member_sees_no_admin_scope_or_pages_and_loads_more_tokens(tabs, stack: Stack) -> None:
    member = claimed_member(stack, "many-tokens@example.com")
    for number in range(30):
        assert call(stack, "POST", "/me/pats", member["pat"]["token"],
                    {"name": f"bulk-{number:02}", "scope": "read_write"})[0] == 201
    tab = tabs()
    sign_in(tab, member["pat"]["token"])
    page = tab.page
    expect(page.get_by_label("Scope").locator("option")).to_have_count(1)
    expect(page.get_by_role("navigation", name="Settings").get_by_role("link")).to_have_text(["Tokens"])
    rows = page.get_by_role("region", name="Your tokens").locator("[data-rows] tr")
    expect(rows).to_have_count(25)
    page.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(31)
    expect(page.get_by_role("button", name="Load more")).to_be_hidden()
    tab.open("settings/admin/users")
    expect(page.get_by_role("heading", name="Admin only")).to_be_visible()
    assert tab.errors() == []


def test_a_re_access_link_opens_the_invite_page_and_a_revoked_invite_says_so(tabs, stack: Stack) -> None:
    claimed_member(stack, "lost-token@example.com")
    admin = tabs()
    sign_in(admin, stack.token)
    admin.open("settings/admin/users")
    admin.page.get_by_role("button", name="Access link lost-token@example.com").click()
    field = admin.page.get_by_label("Access link", exact=True)
    expect(field).to_have_value(re.compile(r"/invite#token=oi_inv_"))
    link = field.input_value()

    user = tabs()
    user.page.goto(link)
    assert "#" not in user.page.url
    user.page.get_by_role("button", name="Claim invite").click()
    expect(user.page.locator("[data-claimed-email]")).to_have_text("lost-token@example.com")
    expect(user.page.get_by_label("New token", exact=True)).to_have_value(re.compile("^oi_pat_"))

    admin.open("settings/admin/invites")
    admin.page.get_by_label("Email").fill("changed-mind@example.com")
    admin.page.get_by_role("button", name="Invite").click()
    expect(admin.page.get_by_label("Invite link", exact=True)).to_have_value(re.compile("#token="))
    revoked_link = admin.page.get_by_label("Invite link", exact=True).input_value()
    admin.page.get_by_role("button", name="Revoke changed-mind@example.com").click()
    admin.page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(admin.page.get_by_role("row").filter(has_text="changed-mind@example.com")).to_have_count(0)

    late = tabs()
    late.page.goto(revoked_link)
    late.page.get_by_role("button", name="Claim invite").click()
    expect(late.page.get_by_role("alert")).to_have_text(
        "This link cannot be used. This invite was revoked; ask an admin for a new one.")


def test_the_invite_page_without_a_token_says_what_to_do(tabs) -> None:
    tab = tabs()
    tab.open("invite")
    expect(tab.page.get_by_text("Open this page from the link in your invite")).to_be_visible()
    expect(tab.page.get_by_role("button", name="Claim invite")).to_be_hidden()



@pytest.mark.parametrize("path", ["/sign-in", "sign-in/", "/settings/personal/tokens", "settings/personal/tokens/"])
def test_a_page_asked_for_with_a_doubled_or_trailing_slash_still_works(tabs, stack: Stack, path: str) -> None:
    # chalice local serves //a and /a/ as /a; the page's relative URLs must resolve from there too.
    tab = tabs()
    if "tokens" in path:
        sign_in(tab, stack.token)
    tab.open(path)
    tab.page.wait_for_load_state("networkidle")
    expect(tab.page.locator("button[type=submit]").first).to_be_enabled()
    assert tab.errors() == []


def test_an_admin_promotes_demotes_and_revokes_every_token_of_a_user(tabs, stack: Stack) -> None:
    member = claimed_member(stack, "rotating@example.com")
    member_token = member["pat"]["token"]
    tab = tabs()
    sign_in(tab, stack.token)
    tab.open("settings/admin/users")
    row = tab.page.get_by_role("row").filter(has_text="rotating@example.com")
    tab.page.get_by_role("button", name="Make admin rotating@example.com").click()
    expect(row.get_by_role("cell").nth(1)).to_have_text("admin")
    tab.page.get_by_role("button", name="Make member rotating@example.com").click()
    expect(row.get_by_role("cell").nth(1)).to_have_text("member")
    assert call(stack, "GET", "/me", member_token)[0] == 200
    tab.page.get_by_role("button", name="Revoke all tokens rotating@example.com").click()
    with tab.page.expect_response(lambda response: response.url.endswith("/pats/revoke-all")) as revoked:
        tab.page.get_by_role("dialog").get_by_role("button", name="Revoke all").click()
    assert revoked.value.status == 204
    assert call(stack, "GET", "/me", member_token)[0] == 401
    assert tab.errors() == []


# --- issue 14: rotation, expiry signalling, where a token is used ------------------------------

def pat_of(stack: Stack, token: str, name: str, *, days: float | None = None) -> dict[str, Any]:
    """A PAT made through the API with ``token``, expiring in ``days`` (None: never)."""
    body: dict[str, Any] = {"name": name, "scope": "read_write"}
    if days is not None:
        body["expiresAt"] = (datetime.now(UTC) + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, created = call(stack, "POST", "/me/pats", token, body)
    assert status == 201, created
    return created


def rotate_in_the_page(page: Page, name: str, keeps_working: str = "Stops at once") -> None:
    page.get_by_role("button", name=f"Rotate {name}", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Old token keeps working for")).to_have_value("0")
    dialog.get_by_label("Old token keeps working for").select_option(label=keeps_working)
    dialog.get_by_role("button", name="Rotate").click()
    expect(dialog).to_be_hidden()


def test_rotate_reveals_the_successor_once_and_the_old_token_stops_at_once(tabs, stack: Stack) -> None:
    member = claimed_member(stack, "rotator@example.com")
    own = member["pat"]["token"]
    old = pat_of(stack, own, "deploy-bot")
    scraper = pat_of(stack, own, "scraper")
    hostile = '<img src=x onerror="document.title=1">' + " curl/8.5.0" * 10
    status, _, _ = raw_call(stack, "GET", "/me", {"Authorization": f"Bearer {scraper['token']}", "User-Agent": hostile})
    assert status == 200
    tab = tabs()
    sign_in(tab, own)
    page = tab.page
    agent = page.get_by_role("row").filter(has_text="scraper").locator(".agent")
    expect(agent).to_have_text(hostile[:39] + "…")  # as text, cut short, the whole in the title
    expect(agent).to_have_attribute("title", hostile)
    expect(page.locator("[data-rows] img")).to_have_count(0)
    own_row = page.get_by_role("row").filter(has_text="first token")
    expect(own_row.get_by_role("cell").nth(4)).to_contain_text("127.0.0.1")  # the sign-in used it
    expect(page.get_by_role("row").filter(has_text="deploy-bot").get_by_role("cell").nth(4)).to_have_text("never")

    page.get_by_role("button", name="Rotate deploy-bot", exact=True).click()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Rotate deploy-bot", exact=True)).to_be_focused()
    assert call(stack, "GET", "/me", old["token"])[0] == 200

    rotate_in_the_page(page, "deploy-bot")
    field = page.get_by_label("New token", exact=True)
    expect(field).to_have_value(re.compile("^oi_pat_"))
    expect(field).to_be_focused()
    successor = field.input_value()
    assert successor != old["token"]
    expect(page.get_by_role("heading", name="Token rotated")).to_be_visible()
    expect(page.get_by_text("shown only once")).to_be_visible()
    expect(page.get_by_role("status").filter(has_text="deploy-bot")).to_contain_text("has stopped working")
    assert call(stack, "GET", "/me", old["token"])[0] == 401
    status, me = call(stack, "GET", "/me", successor)
    assert status == 200 and me["token"]["name"] == "deploy-bot"
    # The tokens table's rows: the security events may name deploy-bot too (its old token was used).
    rows = page.get_by_role("region", name="Your tokens").get_by_role("row").filter(has_text="deploy-bot")
    expect(rows).to_have_count(1)
    expect(rows.get_by_text("rotated", exact=True)).to_have_count(0)

    page.reload()
    expect(rows).to_have_count(1)
    expect(field).to_be_hidden()
    assert_no_token_outside_the_one_time_field(tab, old["token"], successor, own)
    assert tab.errors() == []


def test_a_rotated_row_works_for_its_window_and_a_second_rotation_is_refused_in_words(tabs, stack: Stack) -> None:
    member = claimed_member(stack, "windows@example.com")
    own = member["pat"]["token"]
    nightly = pat_of(stack, own, "nightly")
    stale = pat_of(stack, own, "stale", days=30)
    tab = tabs()
    sign_in(tab, own)
    page = tab.page
    expect(page.get_by_role("button", name="Rotate stale", exact=True)).to_be_enabled()

    rotate_in_the_page(page, "nightly", "1 hour")
    expect(page.get_by_role("status").filter(has_text="nightly")).to_contain_text("keeps working for 1 hour")
    # The badge itself: a row's buttons read "RotateDelete", which has_text="rotated" would match.
    old_row = page.get_by_role("row").filter(has_text="nightly").filter(has=page.get_by_text("rotated", exact=True))
    expect(old_row).to_have_count(1)
    expect(old_row.get_by_role("cell").nth(3)).to_have_text(re.compile(r"^expires in (59 minutes|1 hour)$"))
    expect(old_row.get_by_role("button", name="Rotate nightly")).to_have_count(0)
    expect(page.get_by_role("button", name="Rotate nightly", exact=True)).to_have_count(1)  # the successor's
    assert call(stack, "GET", "/me", nightly["token"])[0] == 200  # inside its window
    old_row.get_by_role("button", name="Delete nightly").click()  # cuts the window short
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(old_row).to_have_count(0)
    assert call(stack, "GET", "/me", nightly["token"])[0] == 401

    # Another client rotates "stale" after the page listed it: the page's Rotate is refused.
    assert call(stack, "POST", f"/me/pats/{stale['id']}/rotate", own, {"graceSeconds": 600})[0] == 201
    rotate_in_the_page(page, "stale")
    expect(page.get_by_role("alert")).to_contain_text("already rotated")
    assert call(stack, "GET", "/me", stale["token"])[0] == 200
    assert_no_token_outside_the_one_time_field(tab, nightly["token"], stale["token"], own)
    assert [error for error in tab.errors() if "409 (Conflict)" not in error] == []  # Chromium logs the 409


def test_rotating_the_tabs_own_token_keeps_the_tab_signed_in_with_the_successor(tabs, stack: Stack) -> None:
    member = claimed_member(stack, "self-rotator@example.com")
    own = member["pat"]["token"]
    tab = tabs()
    sign_in(tab, own)
    page = tab.page
    rotate_in_the_page(page, "first token")
    field = page.get_by_label("New token", exact=True)
    expect(field).to_have_value(re.compile("^oi_pat_"))
    successor = field.input_value()
    expect(page.get_by_role("status").filter(has_text="first token")).to_contain_text(
        "This tab now uses the new token")
    assert page.evaluate("sessionStorage.getItem('openindex.token')") == successor
    assert call(stack, "GET", "/me", own)[0] == 401
    expect(page.get_by_role("row").filter(has_text="first token")).to_contain_text("this tab")

    page.reload()  # still signed in, with the successor
    expect(page.get_by_role("button", name="Rotate first token", exact=True)).to_be_enabled()
    expect(page.get_by_text("self-rotator@example.com")).to_be_visible()
    assert tab.page.url.endswith(TOKENS)
    assert_no_token_outside_the_one_time_field(tab, own, successor)
    assert tab.errors() == []


def test_the_expiry_banner_shows_within_seven_days_not_at_eight_and_rotates_the_tabs_token(
    tabs, stack: Stack, shots
) -> None:
    member = claimed_member(stack, "expiring@example.com")
    own = member["pat"]["token"]
    eight = pat_of(stack, own, "laptop-8d", days=8)
    pat_of(stack, own, "ci-weekly", days=5)
    six = pat_of(stack, own, "laptop-6d", days=6)
    banner = "complementary"

    later = tabs()
    sign_in(later, eight["token"])
    expect(later.page.get_by_role("button", name="Rotate laptop-8d", exact=True)).to_be_enabled()
    expect(later.page.get_by_role(banner)).to_have_count(0)
    expires = later.page.get_by_role("row").filter(has_text="laptop-8d").get_by_role("cell").nth(3)
    expect(expires).to_have_text("in 8 days")
    expect(expires.locator(".warn")).to_have_count(0)
    soon = later.page.get_by_role("row").filter(has_text="laptop-6d").get_by_role("cell").nth(3)
    expect(soon).to_have_text("expires in 6 days")
    expect(soon.locator(".warn")).to_have_count(1)
    expect(later.page.get_by_role("row").filter(has_text="first token").get_by_role("cell").nth(3)).to_have_text(
        "never")

    tab = tabs()
    sign_in(tab, six["token"])
    page = tab.page
    aside = page.get_by_role(banner, name="Your token expires in 6 days")
    expect(aside).to_contain_text("laptop-6d")
    expect(aside.get_by_role("button", name="Rotate this token")).to_be_enabled()
    tab.open("settings/admin/users")  # any signed-in page; a member sees "Admin only" under it
    expect(page.get_by_role("heading", name="Admin only")).to_be_visible()
    expect(aside).to_be_visible()
    aside.get_by_role("link", name="Rotate it on the tokens page").click()
    page.wait_for_url(f"**/{TOKENS}")

    page.get_by_role("button", name="Rotate ci-weekly", exact=True).click()
    page.get_by_role("dialog").get_by_label("Old token keeps working for").select_option(label="1 day")
    shots(tab, "rotate-confirm")
    page.get_by_role("dialog").get_by_role("button", name="Rotate").click()
    expect(page.get_by_role("row").filter(has_text="ci-weekly").get_by_text("rotated", exact=True)).to_have_count(1)
    page.get_by_label("New token", exact=True).blur()
    shots(tab, "tokens-rotation")

    aside.get_by_role("button", name="Rotate this token").click()
    page.get_by_role("dialog").get_by_role("button", name="Rotate").click()
    field = page.get_by_label("New token", exact=True)
    expect(field).to_be_focused()
    expect(page.get_by_role("status").filter(has_text="laptop-6d")).to_contain_text("This tab now uses")
    successor = field.input_value()
    assert page.evaluate("sessionStorage.getItem('openindex.token')") == successor
    assert call(stack, "GET", "/me", six["token"])[0] == 401
    expect(aside).to_be_visible()  # the successor keeps the 6-day lifetime: still within 7 days
    assert_no_token_outside_the_one_time_field(tab, six["token"], successor, own)
    assert tab.errors() == [] and later.errors() == []


# --- issue 15: security events, the token policy --------------------------------------------------

DEFAULT_POLICY = {"maxLifetimeDays": None, "requireExpiry": False, "adminMaxLifetimeDays": None,
                  "runTokenMaxSeconds": 86400}


def test_security_events_list_an_admin_revocation_newest_first_and_load_more(tabs, stack: Stack, shots) -> None:
    member = claimed_member(stack, "watched@example.com")
    own = member["pat"]["token"]
    tab = tabs()
    sign_in(tab, own)
    page = tab.page
    events = page.get_by_role("region", name="Security events")
    expect(events.get_by_text("No security events.")).to_be_visible()
    expect(events.get_by_role("button", name="Load more")).to_be_hidden()

    laptop = pat_of(stack, own, '<b>old-laptop</b>')
    user_id = member["user"]["id"]
    assert call(stack, "DELETE", f"/admin/users/{user_id}/pats/{laptop['id']}", stack.token)[0] == 204
    page.reload()
    rows = events.locator("[data-rows] tr")
    expect(rows).to_have_count(1)
    expect(rows.get_by_role("cell")).to_have_text([
        re.compile(r"\d{4}"), "Revoked by an admin", "<b>old-laptop</b>",
        'An administrator revoked your personal access token "<b>old-laptop</b>".'])
    expect(events.locator("b")).to_have_count(0)  # the server's strings are text, never markup
    expect(events.get_by_text("No security events.")).to_be_hidden()
    shots(tab, "security-events")

    for _ in range(10):  # one event each, 11 in all: two pages of 10
        assert call(stack, "POST", f"/admin/users/{user_id}/access-links", stack.token, {})[0] == 201
    page.reload()
    expect(rows).to_have_count(10)
    expect(rows.first.get_by_role("cell").nth(1)).to_have_text("Re-access link created")
    events.get_by_role("button", name="Load more").click()
    expect(rows).to_have_count(11)
    expect(rows.last.get_by_role("cell").nth(1)).to_have_text("Revoked by an admin")
    expect(events.get_by_role("button", name="Load more")).to_be_hidden()
    assert tab.errors() == []


def impact_of(stack: Stack, token: str, query: str) -> dict[str, Any]:
    status, impact = call(stack, "GET", f"/admin/settings/token-policy/impact?{query}", token)
    assert status == 200, impact
    return impact


def test_the_token_policy_is_previewed_before_it_is_saved_and_a_policy_blocking_the_tab_is_refused(
    tabs, stack: Stack, shots
) -> None:
    before = impact_of(stack, stack.token, "requireExpiry=true")
    # A known population: one new person with three tokens that never expire (the invite's first, two more).
    member = claimed_member(stack, "policy-population@example.com")
    for name in ("legacy-a", "legacy-b"):
        pat_of(stack, member["pat"]["token"], name)
    # An admin token that fits the policy saved below (admin tokens live at most 30 days).
    status, fitting = call(stack, "POST", "/me/pats", stack.token, {
        "name": "policy-admin", "scope": "admin",
        "expiresAt": (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert status == 201, fitting

    try:
        bootstrap = tabs()
        sign_in(bootstrap, stack.token)
        page = bootstrap.page
        page.get_by_role("navigation", name="Settings").get_by_role("link", name="Token policy").click()
        page.wait_for_url(f"**/{POLICY}")
        expect(page.get_by_role("link", name="Token policy")).to_have_attribute("aria-current", "page")
        preview = page.get_by_role("button", name="Preview impact")
        save = page.get_by_role("button", name="Save")
        expect(preview).to_be_enabled()  # wired once the policy is loaded
        expect(page.get_by_label("Longest agent run token (seconds)")).to_have_value("86400")
        expect(page.get_by_label("Maximum lifetime (days)")).to_have_value("")
        expect(page.get_by_label("Require an expiry")).not_to_be_checked()
        expect(page.get_by_label("Maximum lifetime of admin tokens (days)")).to_have_value("")
        expect(save).to_be_disabled()

        preview.click()
        summary = page.locator("[data-impact-summary]")
        expect(summary).to_have_text("No tokens would be blocked.")
        expect(save).to_be_enabled()
        page.get_by_label("Require an expiry").check()
        expect(save).to_be_disabled()  # changed since the preview
        preview.click()
        blocked, people = before["tokensBlocked"] + 3, before["usersAffected"] + 1
        expect(summary).to_have_text(f"{blocked} tokens of {people} people would be blocked.")
        expect(save).to_be_enabled()
        sample = page.locator("[data-impact-rows] tr")
        expect(sample).to_have_count(min(20, blocked))
        # Users come newest first: the new person's three tokens lead the sample.
        expect(sample.filter(has_text="policy-population@example.com")).to_have_count(3)
        expect(sample.filter(has_text="legacy-a").get_by_role("cell")).to_have_text(
            ["policy-population@example.com", "legacy-a", "read_write", "never",
             "tokens must expire, and this one does not"])
        shots(bootstrap, "token-policy")

        save.click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text(f"{blocked} tokens of {people} people would be blocked from their next request")
        dialog.get_by_role("button", name="Cancel").click()
        expect(save).to_be_focused()
        save.click()
        dialog.get_by_role("button", name="Save policy").click()
        expect(page.get_by_role("alert")).to_contain_text("This policy would block the token making the change")
        assert call(stack, "GET", "/admin/settings/token-policy", stack.token) == (200, DEFAULT_POLICY)

        # Signed in with a token that fits, the admin saves a policy that blocks the bootstrap token.
        fits = tabs()
        sign_in(fits, fitting["token"])
        fits.open(POLICY)
        page = fits.page
        preview = page.get_by_role("button", name="Preview impact")
        save = page.get_by_role("button", name="Save")
        expect(preview).to_be_enabled()
        page.get_by_label("Maximum lifetime of admin tokens (days)").fill("30")
        preview.click()
        expect(page.locator("[data-impact-summary]")).to_contain_text("would be blocked")
        expect(page.locator("[data-impact-rows] tr").filter(has_text="admin@example.com").first).to_contain_text(
            "admin tokens live at most 30 days, and this one does not expire")
        save.click()
        page.get_by_role("dialog").get_by_role("button", name="Save policy").click()
        expect(page.get_by_role("status")).to_have_text("Token policy saved.")
        expect(save).to_be_disabled()
        assert call(stack, "GET", "/admin/settings/token-policy", fitting["token"]) == (
            200, {**DEFAULT_POLICY, "adminMaxLifetimeDays": 30})

        # The policy in force: the bootstrap tab is signed out with the API's words, and a token
        # asked for beyond the limit is refused in words.
        bootstrap.page.reload()
        bootstrap.page.wait_for_url("**/sign-in")
        expect(bootstrap.page.get_by_role("alert")).to_contain_text("blocked by the instance's token policy")
        fits.open(TOKENS)
        expect(page.get_by_role("button", name="Create token")).to_be_enabled()
        page.get_by_label("Name").fill("too-long")
        page.get_by_label("Scope").select_option("admin")
        page.get_by_label("Expires").fill((date.today() + timedelta(days=60)).isoformat())
        page.get_by_role("button", name="Create token").click()
        expect(page.get_by_role("alert")).to_contain_text("admin tokens live at most 30 days")
        assert [e for e in fits.errors() + bootstrap.errors() if "409" not in e and "401" not in e
                and "400" not in e] == []  # Chromium logs the refused requests
    finally:
        assert call(stack, "PUT", "/admin/settings/token-policy", fitting["token"], DEFAULT_POLICY)[0] == 200
    assert call(stack, "GET", "/me", stack.token)[0] == 200


def test_a_member_is_not_offered_the_token_policy(tabs, stack: Stack) -> None:
    member = claimed_member(stack, "no-policy@example.com")
    tab = tabs()
    sign_in(tab, member["pat"]["token"])
    expect(tab.page.get_by_role("navigation", name="Settings").get_by_role("link")).to_have_text(["Tokens"])
    tab.open(POLICY)
    expect(tab.page.get_by_role("heading", name="Admin only")).to_be_visible()
    expect(tab.page.get_by_label("Maximum lifetime (days)")).to_have_count(0)
    assert tab.errors() == []
