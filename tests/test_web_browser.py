"""The web UI in a real browser (Playwright driving Debian's Chromium) against the real local
stack, as `make run` serves it. Skipped only when there is no Chromium at CHROMIUM.

Screenshots go to a temporary folder; UPDATE_SCREENSHOTS=1 copies the README's into
docs/screenshots/ (so `make test` leaves the checkout clean).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest

from chalicelib.timeutil import to_iso

from .local_server import ROOT, Stack, call, free_port, launch, raw_call, stop

# One worker runs them all: they share one stack and one browser (module-scoped fixtures).
pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("browser")]

CHROMIUM = Path("/usr/lib/chromium/chromium")
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
       "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
TOKENS = "settings/personal/tokens"
POLICY = "settings/admin/token-policy"
PAGES = ["", "sign-in", TOKENS, "invite", "settings/admin/users", "settings/admin/invites", POLICY]
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR", ROOT / "docs" / "screenshots"))
DESKTOP, PHONE = 1200, 390
# Layout tests run at both widths: a desktop window and a phone held upright.
WIDTHS = pytest.mark.parametrize("width", [DESKTOP, PHONE], ids=["desktop", "phone"])
ISO_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")

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
    started.state_dir = state
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

    def new_tab(*, width: int = DESKTOP, timezone: str = "UTC", locale: str = "en-GB") -> Tab:
        context = browser.new_context(viewport={"width": width, "height": 800}, locale=locale,
                                      timezone_id=timezone)
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

    def shoot(tab: Tab, name: str, *, full_page: bool = True) -> None:
        target = tmp_path / f"{name}.png"
        # The one-time values are masked: no token-shaped string lands in the repository.
        tab.page.screenshot(path=str(target), full_page=full_page, mask=[tab.page.locator("input[readonly]")],
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


def assert_in_words(page: Page) -> None:
    """What the page says to people is sentences: no API field names, no raw ISO stamps, no
    command-line advice, no doubled full stops."""
    text = page.evaluate("() => document.body.innerText")
    assert "expiresAt" not in text and "oi auth check" not in text, text
    assert not ISO_STAMP.search(text), text
    assert ".." not in text, text


def assert_fits_the_width(page: Page) -> None:
    """Nothing scrolls sideways: the page is no wider than the window, and no table needs the
    box it would scroll in as a last resort (on a phone its rows are cards)."""
    scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert scroll <= inner, f"{page.url} is {scroll} px wide in a {inner} px window"
    wide = page.eval_on_selector_all(".scroll", "boxes => boxes.filter(b => b.scrollWidth > b.clientWidth).length")
    assert wide == 0, f"{page.url}: {wide} tables wider than their box"


def me_id(stack: Stack, token: str) -> str:
    """The id of a token, as GET /me gives it."""
    return call(stack, "GET", "/me", token)[1]["token"]["id"]


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


@pytest.mark.parametrize("kind", ["unknown", "run", "read", "narrowed"])
def test_a_bad_a_run_a_read_only_or_a_narrowed_token_is_refused_in_words(tabs, stack: Stack, kind: str) -> None:
    if kind == "unknown":
        token, expected = "oi_pat_not-a-token", "That token was refused"
    elif kind in ("read", "narrowed"):
        minter = member_pat(stack, f"{kind}-maker")
        grant = {"scope": "read"} if kind == "read" else {"permissions": {"work_items": "write"}}
        status, reader = call(stack, "POST", "/me/pats", minter["token"], {"name": kind, **grant})
        assert status == 201
        token = reader["token"]
        expected = "That token is read-only" if kind == "read" else "narrowed to some resource families"
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
    if kind == "unknown":  # a person in a browser is not sent to the command line
        expect(tab.page.get_by_role("alert")).to_have_text(
            "That token was refused: the access token is missing, invalid, expired or revoked. Check that you "
            "pasted the whole token (it begins with oi_pat_), or ask an admin for a re-access link.")
    assert_in_words(tab.page)
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
                                                                        re.compile("^admin"), re.compile("^read:"),
                                                                        re.compile("^custom")])
    page.get_by_label("Name").fill("ci-forever")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_label("New token", exact=True)).to_have_value(re.compile("^oi_pat_"))
    forever = page.get_by_label("New token", exact=True).input_value()
    assert forever.startswith("oi_pat_")
    expect(page.get_by_text("shown only once")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="ci-forever")
    expect(row).to_contain_text("never")

    expect(page.get_by_role("heading", name="Token created: ci-forever")).to_be_visible()  # the box names its token
    expect(page.get_by_role("status")).to_have_text("Token “ci-forever” created.")

    page.get_by_label("Name").fill("ci-twelve-days")
    page.get_by_label("Expires", exact=True).select_option(label="Custom date…")
    page.get_by_label("Expiry date").fill((datetime.now(UTC).date() + timedelta(days=12)).isoformat())
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token created: ci-twelve-days")).to_be_visible()
    twelve = page.get_by_label("New token", exact=True).input_value()
    assert twelve.startswith("oi_pat_") and twelve != forever
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
    expect(page.get_by_role("status")).to_have_text("Token “ci-forever” deleted.")
    assert call(stack, "GET", "/me", forever)[0] == 401

    # A value shown once belongs to the action that made it: the next action takes it away.
    page.get_by_label("Name").fill("ci-shown-then-gone")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token created: ci-shown-then-gone")).to_be_visible()
    page.get_by_role("button", name="Delete ci-twelve-days", exact=True).click()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_label("New token", exact=True)).to_be_visible()  # a cancelled action is no action
    page.get_by_role("button", name="Delete ci-twelve-days", exact=True).click()
    dialog.get_by_role("button", name="Delete").click()
    expect(page.get_by_role("status")).to_have_text("Token “ci-twelve-days” deleted.")
    expect(page.get_by_label("New token", exact=True)).to_be_hidden()
    assert page.locator("#new-token").input_value() == ""
    assert_in_words(page)
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
    page.keyboard.press("Tab")  # Expires (No expiry; the custom date is hidden, out of the tab order)
    page.keyboard.press("Tab")  # Allowed addresses
    page.keyboard.press("Tab")  # Create token
    page.keyboard.press("Enter")
    expect(page.get_by_label("New token", exact=True)).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Copy", exact=True)).to_be_focused()
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
    tab.page.get_by_role("dialog").get_by_role("button", name="Make member").click()
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
    expect(page.get_by_label("Scope").locator("option")).to_have_text([re.compile("^read_write"),
                                                                        re.compile("^read:"),
                                                                        re.compile("^custom")])  # no admin
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
    admin.page.get_by_role("button", name="Re-access link lost-token@example.com").click()
    expect(admin.page.get_by_role("heading", name="Re-access link for lost-token@example.com")).to_be_visible()
    field = admin.page.get_by_label("Re-access link", exact=True)
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
    tab.page.get_by_role("dialog").get_by_role("button", name="Make admin").click()
    expect(row.get_by_role("cell").nth(1)).to_have_text("admin")
    tab.page.get_by_role("button", name="Make member rotating@example.com").click()
    tab.page.get_by_role("dialog").get_by_role("button", name="Make member").click()
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
    # The old token stays listed, blocked (rotated away, past its window of none), and can be deleted.
    rows = page.get_by_role("region", name="Your tokens").get_by_role("row").filter(has_text="deploy-bot")
    expect(rows).to_have_count(2)
    stopped = rows.filter(has=page.get_by_text("stopped: rotated", exact=True))
    expect(stopped).to_have_count(1)
    expect(stopped).to_contain_text(f"Rotated to {me['token']['id']}, and its grace period is over")
    expect(stopped.get_by_role("button", name="Rotate deploy-bot")).to_have_count(0)
    expect(stopped.get_by_text(old["id"], exact=True)).to_be_visible()  # ids shown: which one is which

    page.reload()
    expect(rows).to_have_count(2)
    expect(field).to_be_hidden()
    stopped.get_by_role("button", name="Delete deploy-bot").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete").click()
    expect(rows).to_have_count(1)
    expect(stopped).to_have_count(0)
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
    mine = page.get_by_role("row").filter(has_text="first token")
    expect(mine.filter(has=page.get_by_text("this tab", exact=True))).to_contain_text(me_id(stack, successor))
    expect(mine.filter(has=page.get_by_text("stopped: rotated", exact=True))).to_have_count(1)

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
                  "runTokenMaxSeconds": 86400, "refuseReadWritePreset": False}


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


@WIDTHS
def test_a_token_about_to_expire_is_told_in_the_security_log_in_the_readers_time(
    tabs, stack: Stack, shots, width: int
) -> None:
    member = claimed_member(stack, f"expiring-{width}@example.com")
    own = member["pat"]["token"]
    in_a_week = to_iso(datetime.combine(datetime.now(UTC).date() + timedelta(days=7), time(12), UTC))
    status, _ = call(stack, "POST", "/me/pats", own, {"name": "deploy-bot", "scope": "read_write",
                                                      "expiresAt": in_a_week})
    assert status == 201
    notices = subprocess.run([str(ROOT / ".venv" / "bin" / "openindex-expiry-notices"), "--state-dir",
                              str(stack.state_dir)], cwd=ROOT, capture_output=True, text=True, timeout=60, check=False)
    assert notices.returncode == 0, notices.stderr
    tab = tabs(width=width, timezone="America/New_York", locale="en-US")
    sign_in(tab, own)
    events = tab.page.get_by_role("region", name="Security events")
    row = events.locator("[data-rows] tr", has_text="Expires soon")
    expect(row).to_have_count(1)
    in_new_york = r'"deploy-bot" expires at \w{3}, \w{3} \d+, \d{4}, \d+:\d{2} [AP]M E[SD]T\.'
    expect(row).to_contain_text(re.compile(in_new_york))
    assert_in_words(tab.page)
    assert_fits_the_width(tab.page)
    shots(tab, f"security-events-expiring-{width}")
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
        expect(save).to_be_disabled()  # it would block this tab's own token: said below
        sample = page.locator("[data-impact-rows] tr")
        expect(sample).to_have_count(min(20, blocked))
        # Users come newest first: the new person's three tokens lead the sample.
        expect(sample.filter(has_text="policy-population@example.com")).to_have_count(3)
        expect(sample.filter(has_text="legacy-a").get_by_role("cell")).to_have_text(
            ["policy-population@example.com", "legacy-a", "read_write", "never",
             "tokens must expire, and this one does not"])

        # The preview says the tab's own token would be refused, and what to do; Save stays disabled
        # (no dialog, no 409).
        caller = page.locator("[data-blocks-caller]")
        name = call(stack, "GET", "/me", stack.token)[1]["token"]["name"]
        expect(caller).to_contain_text(f"This tab cannot save these values: they would block “{name}”, the token it "
                                       "is signed in with. This policy would block the token making the change "
                                       "(tokens must expire, and this one does not).")
        expect(caller.get_by_role("link", name="the tokens page")).to_have_attribute(
            "href", re.compile("personal/tokens$"))
        expect(save).to_be_disabled()
        shots(bootstrap, "token-policy")
        page.get_by_label("Require an expiry").uncheck()
        expect(save).to_be_disabled()
        preview.click()
        expect(caller).to_be_hidden()
        expect(save).to_be_enabled()
        assert call(stack, "GET", "/admin/settings/token-policy", stack.token) == (200, DEFAULT_POLICY)
        assert_in_words(page)

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
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("would be blocked from their next request")
        dialog.get_by_role("button", name="Cancel").click()
        expect(save).to_be_focused()
        save.click()
        dialog.get_by_role("button", name="Save policy").click()
        expect(page.get_by_role("status")).to_have_text("Token policy saved.")
        expect(page.get_by_role("dialog")).to_be_hidden()
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
        # The form offers only what the API accepts: this tab's token expires in 20 days, so no
        # admin token may live longer (nor never expire); the picker stops there.
        page.get_by_label("Name").fill("too-long")
        page.get_by_label("Scope").select_option("admin")
        expires = page.get_by_label("Expires", exact=True)
        expect(expires.locator("option")).to_have_text(
            ["7 days", "30 days (later than allowed)", "60 days (later than allowed)", "90 days (later than allowed)",
             re.compile(r"^Latest allowed \(\d+ \w+ \d{4}\)$"), "Custom date…"])
        expect(expires.locator("option[value='60']")).to_be_disabled()
        expect(expires.locator("option:checked")).to_have_text(re.compile("^Latest allowed"))
        expect(page.locator("[data-expiry-limit]")).to_contain_text(
            "No expiry is not allowed here: this tab’s token expires, and a token cannot outlive the token that "
            "creates it. The latest expiry allowed is ")
        expires.select_option(label="Custom date…")
        latest_day = fitting["expiresAt"][:10]
        expect(page.get_by_label("Expiry date")).to_have_attribute("max", latest_day)
        page.get_by_label("Expiry date").fill((date.fromisoformat(latest_day) + timedelta(days=1)).isoformat())
        sent = len([u for u in fits.requests if u.endswith("/me/pats")])
        page.get_by_role("button", name="Create token").click()
        expect(page.get_by_role("alert")).to_have_text(re.compile("^Pick an earlier day: the latest allowed is "))
        assert len([u for u in fits.requests if u.endswith("/me/pats")]) == sent  # nothing was sent

        assert [e for e in fits.errors() + bootstrap.errors() if "409" not in e and "401" not in e
                and "400" not in e] == []  # Chromium logs the refused requests
    finally:
        assert call(stack, "PUT", "/admin/settings/token-policy", fitting["token"], DEFAULT_POLICY)[0] == 200
    assert call(stack, "GET", "/me", stack.token)[0] == 200


@WIDTHS
def test_refusing_the_read_write_preset_is_previewed_saved_and_the_create_form_offers_only_what_it_accepts(
    tabs, stack: Stack, shots, width: int
) -> None:
    member = claimed_member(stack, f"narrow-only-{width}@example.com")
    pat_of(stack, member["pat"]["token"], "broad")  # a read_write token made with a token
    try:
        admin = tabs(width=width)
        sign_in(admin, stack.token)
        admin.open(POLICY)
        page = admin.page
        preview = page.get_by_role("button", name="Preview impact")
        expect(preview).to_be_enabled()
        expect(page.get_by_label("Refuse new read_write tokens")).not_to_be_checked()
        page.get_by_label("Refuse new read_write tokens").check()
        preview.click()
        expect(page.locator("[data-impact-summary]")).to_have_text(re.compile(
            r"^No tokens would be blocked\. \d+ live read_write tokens? that people made themselves \(not invites’ "
            r"first tokens\) could not be made again; they keep working\.$"))
        page.get_by_role("button", name="Save").click()  # nothing blocked: no question
        expect(page.get_by_role("status")).to_have_text("Token policy saved.")
        assert call(stack, "GET", "/admin/settings/token-policy", stack.token)[1]["refuseReadWritePreset"] is True
        shots(admin, f"token-policy-refuse-read-write-{width}")

        tab = tabs(width=width)
        sign_in(tab, member["pat"]["token"])  # its first token, a read_write one, still works
        page = tab.page
        scope = page.get_by_label("Scope")
        expect(scope).to_have_value("read")
        expect(scope.locator("option[value=read_write]")).to_be_disabled()
        expect(scope.locator("option[value=read_write]")).to_have_text("read_write: not allowed by the token policy")
        expect(page.locator("[data-scope-hint]")).to_have_text(
            "The instance's token policy allows no new tokens with the broad read_write preset: choose read, or "
            "custom, family by family (only what the token needs).")
        page.get_by_label("Name").fill("dashboard")
        page.get_by_role("button", name="Create token").click()
        expect(page.get_by_role("heading", name="Token created: dashboard")).to_be_visible()
        expect(page.locator("[data-new-token]")).to_contain_text("read scope")
        assert_in_words(page)
        shots(tab, f"create-form-under-the-preset-cap-{width}")
        assert tab.errors() == [] and admin.errors() == []
    finally:
        assert call(stack, "PUT", "/admin/settings/token-policy", stack.token, DEFAULT_POLICY)[0] == 200


def test_a_member_is_not_offered_the_token_policy(tabs, stack: Stack) -> None:
    member = claimed_member(stack, "no-policy@example.com")
    tab = tabs()
    sign_in(tab, member["pat"]["token"])
    expect(tab.page.get_by_role("navigation", name="Settings").get_by_role("link")).to_have_text(["Tokens"])
    tab.open(POLICY)
    expect(tab.page.get_by_role("heading", name="Admin only")).to_be_visible()
    expect(tab.page.get_by_label("Maximum lifetime (days)")).to_have_count(0)
    assert tab.errors() == []


# --- issue 19: for people ------------------------------------------------------------------------

def user_id_of(stack: Stack, email: str) -> str:
    cursor = None
    while True:
        query = "?limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, page = call(stack, "GET", f"/admin/users{query}", stack.token)
        assert status == 200
        for user in page["items"]:
            if user["email"] == email:
                return user["id"]
        cursor = page["nextCursor"]
        assert cursor, email


def claim(stack: Stack, link: str) -> dict[str, Any]:
    status, claimed = call(stack, "POST", "/auth/invites/claim", None, {"token": link.partition("#token=")[2]})
    assert status == 201, claimed
    return claimed


@WIDTHS
def test_role_and_status_changes_ask_first_and_say_what_they_do_to_tokens(
    tabs, stack: Stack, shots, width: int
) -> None:
    email = f"promoted-{width}@example.com"
    member = claimed_member(stack, email)
    first = member["pat"]["token"]
    tab = tabs(width=width)
    sign_in(tab, stack.token)
    tab.open("settings/admin/users")
    page = tab.page
    dialog = page.get_by_role("dialog")
    status = page.get_by_role("status")
    row = page.get_by_role("row").filter(has_text=email)
    offer = page.get_by_role("region", name="Send a re-access link")
    link = page.get_by_label("Re-access link", exact=True)
    user_id = member["user"]["id"]

    # Promotion gives no admin token by itself: the dialog says so, and a re-access link is offered.
    page.get_by_role("button", name=f"Make admin {email}").click()
    expect(dialog.get_by_role("heading")).to_have_text(f"Make {email} an admin?")
    expect(dialog).to_contain_text("This gives them no admin token by itself: the tokens they hold keep read_write "
                                   "scope. Afterwards, send them a re-access link")
    expect(dialog).not_to_contain_text("This is you")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name=f"Make admin {email}")).to_be_focused()
    assert call(stack, "GET", f"/admin/users/{user_id}", stack.token)[1]["role"] == "member"
    page.get_by_role("button", name=f"Make admin {email}").click()
    if width == DESKTOP:
        shots(tab, "users-confirm")
    dialog.get_by_role("button", name="Make admin").click()
    expect(status).to_have_text(f"{email} is now an admin.")
    expect(row.get_by_role("cell").nth(1)).to_have_text("admin")
    expect(offer).to_contain_text(f"{email} is now an admin, but holds no admin token yet")
    offer.get_by_role("button", name=f"Create a re-access link for {email}").click()
    expect(link).to_have_value(re.compile(r"/invite#token=oi_inv_"))
    expect(offer).to_be_hidden()
    expect(status).to_contain_text(f"Re-access link created for {email}")
    admin_token = claim(stack, link.input_value())["pat"]
    assert admin_token["scope"] == "admin"

    # Demotion revokes their admin tokens for good; read_write ones keep working.
    page.get_by_role("button", name=f"Make member {email}").click()
    expect(dialog).to_contain_text("Their admin-scope tokens are revoked for good: making them an admin again does "
                                   "not bring those tokens back. Their read_write tokens keep working.")
    dialog.get_by_role("button", name="Make member").click()
    expect(status).to_have_text(f"{email} is now a member. Their admin-scope tokens are revoked.")
    expect(link).to_be_hidden()  # the one-time link went with the next action
    assert call(stack, "GET", "/me", admin_token["token"])[0] == 401
    assert call(stack, "GET", "/me", first)[0] == 200

    # Deactivation revokes every token for good; the dialog does not promise them back.
    page.get_by_role("button", name=f"Deactivate {email}").click()
    expect(dialog).to_contain_text("every token they hold is revoked for good. Reactivating them later does not "
                                   "bring those tokens back")
    expect(dialog).not_to_contain_text("work again")
    expect(dialog).not_to_contain_text("until you reactivate")
    dialog.get_by_role("button", name="Deactivate").click()
    expect(status).to_have_text(f"{email} was deactivated. Every token they held is revoked.")
    expect(row.get_by_role("cell").nth(2)).to_have_text("deactivated")
    expect(page.get_by_role("button", name=f"Re-access link {email}")).to_have_count(0)  # 409 for the deactivated
    assert call(stack, "GET", "/me", first)[0] == 401

    # Reactivation brings no token back: a re-access link does.
    page.get_by_role("button", name=f"Reactivate {email}").click()
    expect(dialog).to_contain_text("the tokens they held before stay revoked")
    dialog.get_by_role("button", name="Reactivate").click()
    expect(status).to_have_text(f"{email} was reactivated.")
    assert call(stack, "GET", "/me", first)[0] == 401
    expect(offer).to_contain_text("the tokens they held before stay revoked")
    offer.get_by_role("button", name=f"Create a re-access link for {email}").click()
    expect(link).to_have_value(re.compile(r"/invite#token=oi_inv_"))
    assert call(stack, "GET", "/me", claim(stack, link.input_value())["pat"]["token"])[0] == 200

    # The row that is you says so, and what it means for this tab.
    you = page.get_by_role("row").filter(has_text="admin@example.com")
    expect(you.get_by_text("you", exact=True)).to_be_visible()
    page.get_by_role("button", name="Make member admin@example.com").click()
    expect(dialog).to_contain_text("This is you: this tab’s admin token stops working at once and you will be "
                                   "signed out.")
    expect(dialog).to_contain_text("Your admin-scope tokens are revoked for good")
    expect(dialog).not_to_contain_text("Their")  # one person, one voice
    dialog.get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Deactivate admin@example.com").click()
    expect(dialog).to_contain_text("This is you: this tab’s token stops working at once and you will be signed out.")
    expect(dialog).to_contain_text("every token you hold is revoked for good")
    expect(dialog).not_to_contain_text("They ")
    dialog.get_by_role("button", name="Cancel").click()
    assert call(stack, "GET", "/me", stack.token)[0] == 200
    assert_in_words(page)
    assert_fits_the_width(page)
    assert tab.errors() == []


@WIDTHS
def test_the_expiry_choices_are_githubs_within_what_the_tabs_token_may_create(
    tabs, stack: Stack, shots, width: int
) -> None:
    tab = tabs(width=width)
    sign_in(tab, stack.token)  # never expires, and the default policy: anything goes
    page = tab.page
    expires = page.get_by_label("Expires", exact=True)
    hint = page.locator("[data-expires-hint]")
    expect(expires.locator("option")).to_have_text(
        ["No expiry", "7 days", "30 days", "60 days", "90 days", "Custom date…"])
    expect(expires).to_have_value("never")  # blank means never, as the product docs say
    expect(hint).to_have_text("The token never expires.")
    expect(page.locator("[data-expiry-limit]")).to_be_hidden()
    expires.select_option(label="30 days")
    expect(hint).to_have_text(re.compile(r"^The token expires on \w{3}, \d+ \w{3} \d{4}, \d\d:\d\d UTC\.$"))
    page.get_by_label("Name").fill(f"thirty-{width}")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name=f"Token created: thirty-{width}")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text=f"thirty-{width}")).to_contain_text("in 30 days")
    created = datetime.fromisoformat(call(stack, "GET", "/me", page.get_by_label("New token", exact=True)
                                          .input_value())[1]["token"]["expiresAt"])
    assert abs(created - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=2)
    expect(expires).to_have_value("never")  # the form is back to its first choice

    # A tab whose token expires in 20 days: nothing may outlive it, so no "No expiry", no presets
    # beyond it, and the form says why and uses the latest allowed.
    member = claimed_member(stack, f"twenty-days-{width}@example.com")
    twenty = pat_of(stack, member["pat"]["token"], "twenty-days", days=20)
    short = tabs(width=width)
    sign_in(short, twenty["token"])
    page = short.page
    expires = page.get_by_label("Expires", exact=True)
    expect(expires.locator("option")).to_have_text(
        ["7 days", "30 days (later than allowed)", "60 days (later than allowed)", "90 days (later than allowed)",
         re.compile(r"^Latest allowed \(\d+ \w+ \d{4}\)$"), "Custom date…"])
    expect(expires.locator("option:disabled")).to_have_count(3)
    expect(expires).to_have_value("default")
    expect(page.locator("[data-expiry-limit]")).to_have_text(re.compile(
        "^No expiry is not allowed here: this tab’s token expires, and a token cannot outlive the token that creates "
        r"it\. The latest expiry allowed is .+, when this tab’s token expires\. The form uses it unless you pick an "
        r"earlier expiry\.$"))
    expires.select_option(label="Custom date…")
    day = page.get_by_label("Expiry date")
    expect(day).to_have_attribute("min", (datetime.now(UTC) + timedelta(days=1)).date().isoformat())
    expect(day).to_have_attribute("max", twenty["expiresAt"][:10])
    if width == DESKTOP:
        day.fill((datetime.now(UTC) + timedelta(days=10)).date().isoformat())
        expect(page.get_by_role("row").filter(has_text="twenty-days")).to_be_visible()  # the lists are in
        expect(page.get_by_text("No security events.")).to_be_visible()
        shots(short, "create-token-expiry")
    expires.select_option("default")
    page.get_by_label("Name").fill("until-the-end")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token created: until-the-end")).to_be_visible()
    status, made = call(stack, "GET", "/me", page.get_by_label("New token", exact=True).input_value())
    assert made["token"]["expiresAt"] == twenty["expiresAt"]
    assert_in_words(page)
    assert_fits_the_width(page)
    assert tab.errors() == [] and short.errors() == []


def test_a_custom_date_is_the_instant_oi_sends_for_it_wherever_the_browser_is(tabs, stack: Stack) -> None:
    from zoneinfo import ZoneInfo

    from openindex_cli import expiry as cli_expiry

    tab = tabs(timezone="America/New_York")
    sign_in(tab, stack.token)
    page = tab.page
    day = (datetime.now(UTC) + timedelta(days=40)).date().isoformat()
    page.get_by_label("Expires", exact=True).select_option(label="Custom date…")
    page.get_by_label("Expiry date").fill(day)
    instant = cli_expiry.parse(day, datetime.now(UTC))  # what `oi … --expires-at DAY` sends
    local = datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(ZoneInfo("America/New_York"))
    hint = page.locator("[data-expires-hint]")
    expect(hint).to_contain_text(f"The token expires on {local:%a}, {local.day} {local:%b} {local.year}, {local:%H:%M}")
    expect(hint).to_contain_text(f"(00:00 UTC on {int(day[8:])} {date.fromisoformat(day):%b} {day[:4]})")
    page.get_by_label("Name").fill("same-instant")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("heading", name="Token created: same-instant")).to_be_visible()
    status, made = call(stack, "GET", "/me", page.get_by_label("New token", exact=True).input_value())
    assert made["token"]["expiresAt"] == instant
    assert tab.errors() == []


def test_where_the_policy_fills_in_the_expiry_the_form_says_so_and_sends_none(tabs, stack: Stack) -> None:
    # A tab that fits a policy requiring an expiry always expires itself, so the API's "latest"
    # (the policy fills it in) is shown here with GET /me's answer rewritten in the browser.
    filled = (datetime.now(UTC) + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def policy_limits(route: Any) -> None:
        response = route.fetch()
        me = response.json()
        me["tokenLimits"]["read_write"] = {"latestExpiresAt": None, "noExpiryAllowed": False, "leftOut": "latest",
                                           "leftOutExpiresAt": filled}
        route.fulfill(response=response, json=me)

    tab = tabs()
    sign_in(tab, stack.token)
    page = tab.page
    page.route(re.compile(r".*/me$"), policy_limits)
    page.reload()
    expires = page.get_by_label("Expires", exact=True)
    expect(expires.locator("option")).to_have_text(
        ["7 days", "30 days", "60 days", "90 days", re.compile(r"^The policy’s default \(\d+ \w+ \d{4}\)$"),
         "Custom date…"])
    expect(expires).to_have_value("default")
    expect(page.locator("[data-expiry-limit]")).to_have_text(re.compile(
        r"^No expiry is not allowed here: the instance’s token policy requires an expiry\. Left to the policy, the "
        r"token expires on .+: the form uses that unless you pick another\.$"))
    page.get_by_label("Name").fill("policy-default")
    with page.expect_request(lambda request: request.url.endswith("/me/pats") and request.method == "POST") as sent:
        page.get_by_role("button", name="Create token").click()
    assert sent.value.post_data_json == {"name": "policy-default", "scope": "read_write"}  # left out: the API fills it
    expect(page.get_by_role("heading", name="Token created: policy-default")).to_be_visible()


@pytest.mark.parametrize(("code", "message", "shown"), [
    ("policy_violation", "Invalid request: the instance's token policy says tokens live at most 30 days, so the "
     "token must expire at or before 2027-01-03T10:00:00Z.",
     "The instance's token policy says tokens live at most 30 days, so the token must expire at or before "
     "Sun, 3 Jan 2027, 10:00 UTC."),
    ("invalid_request", "Invalid request: expiresAt must be in the future; set expiresAt at or before "
     "2027-01-03T10:00:00Z..", "The expiry must be in the future; pick an expiry at or before Sun, 3 Jan 2027, "
     "10:00 UTC."),
])
def test_a_refusal_is_shown_in_words_and_local_time(tabs, stack: Stack, code: str, message: str, shown: str) -> None:
    tab = tabs()
    sign_in(tab, stack.token)
    page = tab.page
    page.route(re.compile(r".*/me/pats$"), lambda route: route.fulfill(
        status=400, json={"error": {"code": code, "message": message}}) if route.request.method == "POST"
        else route.continue_())
    page.get_by_label("Name").fill("refused")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("alert")).to_have_text(shown)
    assert_in_words(page)


@WIDTHS
def test_blocked_tokens_say_why_and_the_picker_keeps_new_ones_within_the_policy(
    tabs, stack: Stack, shots, width: int
) -> None:
    member = claimed_member(stack, f"blocked-{width}@example.com")
    fits = pat_of(stack, member["pat"]["token"], "fits", days=20)
    status, admin = call(stack, "POST", "/me/pats", stack.token, {
        "name": f"policy-setter-{width}", "scope": "admin",
        "expiresAt": (datetime.now(UTC) + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M:%SZ")})
    assert status == 201
    try:
        assert call(stack, "PUT", "/admin/settings/token-policy", admin["token"],
                    {**DEFAULT_POLICY, "requireExpiry": True})[0] == 200
        tab = tabs(width=width)
        sign_in(tab, fits["token"])
        page = tab.page
        blocked = page.get_by_role("row").filter(has_text="first token")
        expect(blocked.get_by_text("blocked by policy", exact=True)).to_be_visible()
        expect(blocked).to_contain_text("Blocked by the instance's token policy: tokens must expire, and this one "
                                        "does not.")
        expect(blocked.get_by_role("button", name="Rotate first token")).to_be_visible()  # its successor would fit
        expect(blocked.locator(".warn")).to_have_count(0)
        if width == PHONE:
            shots(tab, "tokens-phone")
        assert_fits_the_width(page)
        assert_in_words(page)
    finally:
        assert call(stack, "PUT", "/admin/settings/token-policy", admin["token"], DEFAULT_POLICY)[0] == 200


def test_run_tokens_and_ids_a_person_revokes_their_own_and_an_admin_anyones(tabs, browser, stack: Stack, shots) -> None:
    member = claimed_member(stack, "agents@example.com")
    own = member["pat"]["token"]
    runner = pat_of(stack, own, "ci-runner")
    mint = lambda agent: call(stack, "POST", "/workflows/agent-run-tokens", runner["token"],  # noqa: E731
                              {"agentId": agent, "stage": "build"})[1]
    alpha = mint("agent-alpha")

    tab = tabs()
    tab.page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.base_url)
    sign_in(tab, own)
    page = tab.page
    runs = page.get_by_role("region", name="Agent run tokens")
    row = runs.get_by_role("row").filter(has_text="agent-alpha")
    expect(row.get_by_role("cell")).to_have_text([
        re.compile(f"^agent-alpha{alpha['id']}Copy ID$"), "build", f"ci-runner{runner['id']}",
        re.compile(r"\d{4}"), "in 1 hour", "Revoke"])
    row.get_by_role("button", name="Copy the ID of the run token of agent-alpha").click()
    expect(page.get_by_role("status")).to_have_text(f"Copied the ID of the run token of agent-alpha: {alpha['id']}.")
    assert page.evaluate("navigator.clipboard.readText()") == alpha["id"]
    page.get_by_role("button", name="Copy the ID of ci-runner").click()
    assert page.evaluate("navigator.clipboard.readText()") == runner["id"]
    row.get_by_role("button", name="Revoke the run token of agent-alpha").click()
    expect(page.get_by_role("dialog")).to_contain_text("The agent needs a new one from “ci-runner” to go on.")
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("The run token of agent-alpha was revoked.")
    expect(runs.get_by_text("No agent run tokens.")).to_be_visible()
    assert call(stack, "GET", "/me", alpha["token"])[0] == 401

    # An admin: the users list links to the person's page, with their PATs and run tokens.
    beta = mint("agent-beta")
    gamma = mint("agent-gamma")
    admin = tabs()
    sign_in(admin, stack.token)
    admin.open("settings/admin/users")
    page = admin.page
    page.get_by_role("link", name="agents@example.com").click()
    page.wait_for_url(f"**/settings/admin/users/{member['user']['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("agents@example.com")
    expect(page.get_by_role("navigation", name="Settings").get_by_role("link", name="Users")).to_have_attribute(
        "aria-current", "page")
    expect(page.locator("[data-user-facts]")).to_contain_text(member["user"]["id"])
    pats = page.get_by_role("region", name="Personal access tokens")
    expect(pats.locator("[data-rows] tr")).to_have_count(2)
    runs = page.get_by_role("region", name="Agent run tokens")
    expect(runs.locator("[data-rows] tr")).to_have_count(2)
    shots(admin, "user")
    runs.get_by_role("button", name="Revoke the run token of agent-beta").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("The run token of agent-beta was revoked.")
    assert call(stack, "GET", "/me", beta["token"])[0] == 401
    pats.get_by_role("button", name="Revoke ci-runner").click()
    expect(page.get_by_role("dialog")).to_contain_text(
        "Anything using agents@example.com’s token “ci-runner” is refused from its next request on, with the run "
        "tokens it made. They are told in their security events.")
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("Token “ci-runner” of agents@example.com revoked.")
    expect(pats.locator("[data-rows] tr")).to_have_count(1)
    expect(runs.get_by_text("No agent run tokens.")).to_be_visible()  # gamma died with its PAT
    assert call(stack, "GET", "/me", runner["token"])[0] == 401
    assert call(stack, "GET", "/me", gamma["token"])[0] == 401
    assert call(stack, "GET", "/me", own)[0] == 200
    admin.open("settings/admin/users/usr_01aaaaaaaaaaaaaaaaaaaaaaaa")
    expect(page.get_by_role("heading", name="No such user")).to_be_visible()
    assert_in_words(page)
    assert [e for e in admin.errors() if "404" not in e] == [] and tab.errors() == []


def test_invites_choose_their_expiry_name_re_access_links_and_end_empty(tabs, stack: Stack) -> None:
    status, pending = call(stack, "GET", "/admin/invites?limit=100", stack.token)
    for invite in pending["items"]:  # earlier tests' leftovers: this one starts from none
        if invite["status"] == "pending":
            assert call(stack, "DELETE", f"/admin/invites/{invite['id']}", stack.token)[0] == 204
    tab = tabs()
    sign_in(tab, stack.token)
    tab.open("settings/admin/invites")
    page = tab.page
    expect(page.get_by_text("No pending invites or re-access links.")).to_be_visible()
    expect(page.get_by_label("Link expires after").locator("option")).to_have_text(
        ["1 day", "3 days", "7 days", "14 days", "30 days"])
    expect(page.get_by_label("Link expires after")).to_have_value("7")
    page.get_by_label("Email").fill("month@example.com")
    page.get_by_label("Link expires after").select_option(label="30 days")
    page.get_by_role("button", name="Invite").click()
    expect(page.get_by_label("Invite link", exact=True)).to_have_value(re.compile("#token="))
    expect(page.get_by_role("heading", name="Invite link for month@example.com")).to_be_visible()
    expect(page.locator("[data-link-expiry]")).to_contain_text("It works once, until ")
    expect(page.get_by_role("status")).to_contain_text("Invite created for month@example.com")
    invite_row = page.get_by_role("row").filter(has_text="month@example.com")
    expect(invite_row).to_contain_text("in 30 days")
    expect(page.get_by_label("Link expires after")).to_have_value("7")  # back to the default

    relinked = claimed_member(stack, "relinked@example.com")
    assert call(stack, "POST", f"/admin/users/{relinked['user']['id']}/access-links", stack.token, {})[0] == 201
    page.reload()
    link_row = page.get_by_role("row").filter(has_text="relinked@example.com")
    expect(link_row.get_by_role("cell").nth(2)).to_have_text("re-access link")
    expect(invite_row.get_by_role("cell").nth(2)).to_have_text("invite")
    page.get_by_role("button", name="Revoke relinked@example.com").click()
    expect(page.get_by_role("dialog").get_by_role("heading")).to_have_text(
        "Revoke the re-access link of relinked@example.com?")
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("The re-access link of relinked@example.com was revoked.")
    page.get_by_role("button", name="Revoke month@example.com").click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_have_text("The invite of month@example.com was revoked.")
    expect(page.get_by_text("No pending invites or re-access links.")).to_be_visible()
    expect(page.locator("table.list")).to_be_hidden()
    assert tab.errors() == []


def test_an_invite_revoked_with_the_token_that_sent_it_says_so_and_can_be_removed(tabs, stack: Stack) -> None:
    status, sent = call(stack, "POST", "/admin/invites", stack.token, {"email": "second-admin@example.com",
                                                                      "role": "admin"})
    second = claim(stack, sent["inviteUrl"])
    status, doomed = call(stack, "POST", "/admin/invites", second["pat"]["token"],
                          {"email": "sent-by-second@example.com"})
    assert status == 201, doomed
    status, _ = call(stack, "PATCH", f"/admin/users/{second['user']['id']}", stack.token, {"role": "member"})
    assert status == 200
    tab = tabs()
    sign_in(tab, stack.token)
    tab.open("settings/admin/invites")
    page = tab.page
    row = page.get_by_role("row").filter(has_text="sent-by-second@example.com")
    expect(row).to_contain_text("Revoked: the token that sent it was revoked")
    expect(row).to_contain_text("second-admin@example.com")  # who sent it
    row.get_by_role("button", name="Remove sent-by-second@example.com").click()
    expect(page.get_by_role("status")).to_have_text(
        "The revoked invite of sent-by-second@example.com was removed from the list.")
    expect(row).to_have_count(0)
    assert tab.errors() == []


@WIDTHS
def test_every_page_fits_the_window_and_links_only_to_pages_that_exist(tabs, stack: Stack, shots, width: int) -> None:
    # Long, unbroken strings people choose: they wrap, the page does not widen.
    long_email = f"a-very-long-address-{width}-without-spaces@subdomain.of.an.example.com"
    member = claimed_member(stack, long_email)
    long_name = "x" * 100
    maker = pat_of(stack, member["pat"]["token"], long_name)
    call(stack, "POST", "/workflows/agent-run-tokens", maker["token"], {"agentId": "y" * 100, "stage": "z" * 60})
    call(stack, "POST", "/admin/invites", stack.token, {"email": f"pending-{width}-{'q' * 40}@example.com"})

    signed_out = tabs(width=width)
    for path in ["sign-in", "invite"]:
        signed_out.open(path)
        signed_out.page.wait_for_load_state("networkidle")
        assert_fits_the_width(signed_out.page)
    tab = tabs(width=width)
    sign_in(tab, member["pat"]["token"])  # a member's tokens page, with the long token name
    expect(tab.page.get_by_role("button", name=f"Rotate {long_name}", exact=True)).to_be_enabled()
    assert_fits_the_width(tab.page)
    tab.page.get_by_role("button", name="Sign out").click()
    sign_in(tab, stack.token)
    page = tab.page
    pages = [TOKENS, "settings/admin/users", f"settings/admin/users/{member['user']['id']}",
             "settings/admin/invites", POLICY]
    links: set[str] = set()
    for path in pages:
        tab.open(path)
        page.wait_for_load_state("networkidle")
        expect(page.locator("[data-who]")).to_have_text("admin@example.com")
        assert_fits_the_width(page)
        links |= set(page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"))
        # The header's words stay apart: the brand, the email and Sign out do not touch.
        boxes = [page.locator(selector).bounding_box() for selector in (".brand", "[data-who]", "[data-sign-out]")]
        for one, other in zip(boxes, boxes[1:], strict=False):
            assert one is not None and other is not None
            apart = (one["x"] + one["width"] <= other["x"] - 4) or (one["y"] + one["height"] <= other["y"])
            assert apart, (path, boxes)
        if width == PHONE and path == "settings/admin/users":
            shots(tab, "users-phone", full_page=False)  # the first screenful: the list is long by now
    tab.open(TOKENS)
    page.get_by_role("button", name=re.compile("^Rotate ")).first.click()
    box = page.get_by_role("dialog").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    for link in sorted(links):
        assert link.startswith(stack.base_url + "/"), link
        status, headers, _ = raw_call(stack, "GET", link.removeprefix(stack.base_url), {"Accept": "text/html"})
        content_type = {name.lower(): value for name, value in headers.items()}["content-type"]
        assert status == 200 and content_type.startswith("text/html"), (link, status)
    assert tab.errors() == [] and signed_out.errors() == []


@WIDTHS
def test_a_token_is_made_family_by_family_with_the_picker(tabs, stack: Stack, width: int) -> None:
    tab = tabs(width=width)
    sign_in(tab, stack.token)
    page = tab.page
    families = page.get_by_role("group", name="What it may do to each family")
    expect(families).to_be_hidden()
    page.get_by_label("Scope").select_option("custom")
    expect(families).to_be_visible()
    expect(families.get_by_label("users: write")).to_be_visible()  # an admin tab is offered the admin families
    page.get_by_label("Name").fill(f"triage-{width}")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose read or write for at least one family")
    families.get_by_label("work items: write").check()
    families.get_by_label("queues: read").check()
    assert_fits_the_width(page)
    page.get_by_role("button", name="Create token").click()
    made = page.get_by_label("New token", exact=True)
    expect(made).to_have_value(re.compile("^oi_pat_"))
    granted = call(stack, "GET", "/me", made.input_value())[1]["token"]["permissions"]
    assert {family for family, level in granted.items() if level != "none"} == {"work_items", "queues"}
    row = page.get_by_role("row").filter(has_text=f"triage-{width}")
    expect(row).to_contain_text("custom")
    expect(row).to_contain_text("write: work items; read: queues")
    expect(families).to_be_hidden()  # the form is back to its preset
    assert_fits_the_width(page)
    assert_in_words(page)


@WIDTHS
def test_a_token_is_narrowed_to_what_it_used(tabs, stack: Stack, width: int) -> None:
    agent = pat_of(stack, stack.token, f"reader-{width}")
    assert call(stack, "GET", "/work-items", agent["token"])[0] == 200  # through the local gateway's authorizer
    tab = tabs(width=width)
    sign_in(tab, stack.token)
    page = tab.page
    row = page.get_by_role("row").filter(has_text=f"reader-{width}")
    expect(row).to_contain_text("used: read: work items")
    assert_fits_the_width(page)
    row.get_by_role("button", name=f"Narrow reader-{width} to what it used").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("It keeps read: work items. It will no longer write work items, nor use queues, "
                                   "domains, workflows, calendar sources, conversations at all.")
    expect(dialog).to_contain_text("watched for less than 7 days")
    dialog.get_by_role("button", name="Narrow").click()
    expect(page.get_by_role("status")).to_contain_text(
        f"“reader-{width}” was narrowed: from now on it may only read: work items.")
    expect(row).to_contain_text("custom")
    expect(row.get_by_role("button", name=re.compile("Narrow"))).to_have_count(0)
    assert call(stack, "POST", "/work-items", agent["token"], {"title": "no"})[0] == 403
    assert call(stack, "GET", "/work-items", agent["token"])[0] == 200
    assert_in_words(page)


def test_the_tokens_table_fits_the_desktop_with_every_kind_of_row(tabs, stack: Stack) -> None:
    """A new user's list at 1200 px: a token for some addresses, used (its address and client
    shown), a narrowed one and a narrowed run token (each saying what it may do), a rotated one
    whose reason names its successor (one long word, which once held its column 34 px too wide
    and pushed the actions out of view)."""
    member = claimed_member(stack, "every-row@example.com")
    own = member["pat"]["token"]
    expires = (datetime.now(UTC) + timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    status, office = call(stack, "POST", "/me/pats", own, {"name": "ipok", "scope": "read_write", "expiresAt": expires,
                                                           "allowedIps": ["127.0.0.1/32", "2001:db8::/32"]})
    assert status == 201, office
    assert call(stack, "GET", "/work-items", office["token"])[0] == 200  # used, and what it used learned
    old = pat_of(stack, own, "rotated-away", days=60)
    assert call(stack, "POST", f"/me/pats/{old['id']}/rotate", own, {})[0] == 201
    narrow = pat_of(stack, own, "narrowed")
    assert call(stack, "PATCH", f"/me/pats/{narrow['id']}", own, {"permissions": {"work_items": "read"}})[0] == 200
    status, run = call(stack, "POST", "/workflows/agent-run-tokens", own,
                       {"agentId": "triage", "permissions": {"work_items": "read"}})
    assert status == 201, run
    tab = tabs(width=DESKTOP, locale="en-US")  # its dates are the longest: "Dec 5, 2026, 1:52 AM"
    sign_in(tab, own)
    page = tab.page
    expect(page.get_by_role("button", name="Narrow ipok to what it used")).to_be_visible()
    runs = page.get_by_role("region", name="Agent run tokens")
    expect(runs.get_by_role("row").filter(has_text="triage")).to_contain_text("may read: work items")
    assert_fits_the_width(page)


def test_a_token_is_made_for_some_addresses_only(tabs, stack: Stack) -> None:
    tab = tabs()
    sign_in(tab, stack.token)
    page = tab.page
    page.get_by_label("Name").fill("office-only")
    page.get_by_label("Allowed addresses").fill("the office")
    page.get_by_role("button", name="Create token").click()
    expect(page.get_by_role("alert")).to_contain_text("Allowed addresses: range 1 is not an IPv4 or IPv6 address")
    page.get_by_label("Allowed addresses").fill("203.0.113.9/24, 2001:db8::/32")
    page.get_by_role("button", name="Create token").click()
    made = page.get_by_label("New token", exact=True)
    expect(made).to_have_value(re.compile("^oi_pat_"))
    expect(page.get_by_role("row").filter(has_text="office-only")).to_contain_text(
        "only from 203.0.113.0/24, 2001:db8::/32")
    status, answer = call(stack, "GET", "/me", made.input_value())  # make run serves it from 127.0.0.1
    assert status == 401
    assert "works only from 203.0.113.0/24" in call(stack, "POST", "/auth/token-check", None,
                                                   {"token": made.input_value()})[1]["message"]
    assert_in_words(page)
