// OpenIndex Auth web UI: one ES module for every page (the page says which in <body data-page>).
// A client of the JSON API and nothing more. The token lives in this tab's sessionStorage only:
// never a cookie, localStorage or the URL, and never in the console or the DOM (only a token
// just created or rotated is shown, once, in its read-only field).

// This file is served at <root>/assets/app.<hash>.js: the API and the pages are found from it,
// not from the page's path, so the UI works at / and under API Gateway's /api/ stage prefix.
const ROOT = new URL("../", import.meta.url);
const PAGE = document.body.dataset.page;

// The invite page reads its token from the fragment and removes it from the address bar first
// of all, so it stays out of history, bookmarks and anything that reads the URL later.
const INVITE_TOKEN = PAGE === "invite" ? takeFragmentToken() : null;

const TOKEN_KEY = "openindex.token";
const NOTICE_KEY = "openindex.notice";
const PAGE_SIZE = 25;

function takeFragmentToken() {
  const params = new URLSearchParams(location.hash.slice(1));
  history.replaceState(null, "", location.pathname + location.search);
  return params.get("token");
}

const url = (path) => new URL(path, ROOT).href;
const $ = (selector, scope = document) => scope.querySelector(selector);

function go(path) {
  location.assign(url(path));
}

// --- the session -----------------------------------------------------------------------------

const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  signIn(token) { sessionStorage.setItem(TOKEN_KEY, token); },
  signOut(notice) {
    sessionStorage.removeItem(TOKEN_KEY);
    if (notice) sessionStorage.setItem(NOTICE_KEY, notice);
    else sessionStorage.removeItem(NOTICE_KEY);
    go("sign-in");
  },
  takeNotice() {
    const notice = sessionStorage.getItem(NOTICE_KEY);
    sessionStorage.removeItem(NOTICE_KEY);
    return notice;
  },
};

class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// One call to the API. With the tab's token (the default), a 401 signs the tab out and says why.
async function api(method, path, { body, token = session.token(), signOutOn401 = true } = {}) {
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url(path), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError(0, "network", "The service cannot be reached. Check your connection and try again.");
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (response.ok) return data;
  const error = data && data.error ? data.error : {};
  const failure = new ApiError(response.status, error.code || "error",
    error.message || `The service answered ${response.status}.`);
  if (response.status === 401 && signOutOn401) {
    session.signOut(`You were signed out: ${failure.message}`);
    await new Promise(() => {}); // the page is going away; nothing after this should run
  }
  throw failure;
}

// --- small helpers for the page --------------------------------------------------------------

function showAlert(message) {
  const alert = $("[data-alert]");
  alert.textContent = message;
  alert.hidden = !message;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  node.append(...children);
  return node;
}

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Within this much of its expiry a token is flagged: a warning badge, and the banner for the tab's own.
const EXPIRY_WARNING = 7 * DAY;
const USER_AGENT_SHOWN = 40;
const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

function timeCell(iso, empty = "never") {
  if (!iso) return el("td", { text: empty });
  return el("td", {}, el("time", { datetime: iso, title: iso, text: dateFormat.format(new Date(iso)) }));
}

const plural = (count, unit) => `${count} ${unit}${count === 1 ? "" : "s"}`;

// "never", "expired", "in 40 minutes", "in 5 hours" (within a day), "in 12 days" (calendar
// days, within a month) or a date.
function expiryText(iso, now = new Date()) {
  if (!iso) return "never";
  const expiry = new Date(iso);
  const left = expiry - now;
  if (left <= 0) return "expired";
  const minutes = Math.max(1, Math.round(left / MINUTE));
  if (minutes < 60) return `in ${plural(minutes, "minute")}`;
  const hours = Math.round(left / HOUR);
  if (hours < 24) return `in ${plural(hours, "hour")}`;
  const midnight = (moment) => new Date(moment.getFullYear(), moment.getMonth(), moment.getDate()).getTime();
  const days = Math.max(1, Math.round((midnight(expiry) - midnight(now)) / DAY));
  if (days <= 30) return `in ${plural(days, "day")}`;
  return dateFormat.format(expiry);
}

const expiresSoon = (iso, now = new Date()) => Boolean(iso) && new Date(iso) - now <= EXPIRY_WARNING;

// Plain for "never" and later dates; with warn, a warning badge ("expires in 3 days") within 7
// days. Tokens warn; invites do not (they all live 7 days, so every one would).
function expiryCell(iso, { warn = false } = {}) {
  if (!iso) return el("td", { text: "never" });
  const text = expiryText(iso);
  if (!warn || !expiresSoon(iso)) return el("td", {}, el("time", { datetime: iso, title: iso, text }));
  return el("td", {}, el("time", {
    class: "badge warn", datetime: iso, title: iso, text: text === "expired" ? text : `expires ${text}`,
  }));
}

// When, from where and with what a token was last used. The user agent is whatever the client
// sent: it is only ever set as text (textContent, an attribute), never parsed as HTML.
function lastUsedCell(pat) {
  if (!pat.lastUsedAt) return el("td", { text: "never" });
  const cell = el("td", { class: "used" },
    el("time", { datetime: pat.lastUsedAt, title: pat.lastUsedAt, text: dateTimeFormat.format(new Date(pat.lastUsedAt)) }));
  if (pat.lastUsedIp) cell.append(el("span", { class: "ip", text: pat.lastUsedIp }));
  const agent = pat.lastUsedUserAgent;
  if (agent) {
    const short = agent.length > USER_AGENT_SHOWN ? `${agent.slice(0, USER_AGENT_SHOWN - 1)}…` : agent;
    cell.append(el("span", { class: "agent", title: agent, text: short }));
  }
  return cell;
}

// Asks before anything is deleted, revoked or rotated: the page's <dialog>, Cancel focused.
// With askGrace, the dialog's "Old token keeps working for" choice is shown (reset to "Stops at once").
function confirmAction(title, text, okLabel, { askGrace = false } = {}) {
  const dialog = $("[data-confirm]");
  $("[data-confirm-title]", dialog).textContent = title;
  $("[data-confirm-text]", dialog).textContent = text;
  $("[data-confirm-ok]", dialog).textContent = okLabel;
  const grace = $("[data-confirm-grace]", dialog);
  if (grace) {
    grace.hidden = !askGrace;
    $("select", grace).selectedIndex = 0;
  }
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true });
    dialog.showModal();
  });
}

// A value shown once: its section, read-only field and Copy button.
function showOnce(section, value) {
  const field = $("input[readonly]", section);
  field.value = value;
  $("[data-copied]", section).textContent = "";
  section.hidden = false;
  field.focus();
  field.select();
}

function wireCopyButtons() {
  for (const button of document.querySelectorAll("[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = document.getElementById(button.dataset.copy);
      const note = $("[data-copied]", button.closest("section"));
      let copied = false;
      try {
        await navigator.clipboard.writeText(field.value);
        copied = true;
      } catch {
        field.focus();
        field.select();
        copied = document.execCommand && document.execCommand("copy");
      }
      note.textContent = copied ? "Copied." : "Select the field and copy it (Ctrl+C or ⌘C).";
    });
  }
}

// A list with "Load more" while the API gives a nextCursor: the [data-rows], [data-more] and
// [data-empty] inside scope (a page with two lists gives each its section).
function pagedList(path, renderRow, { scope = document, limit = PAGE_SIZE } = {}) {
  const rows = $("[data-rows]", scope);
  const more = $("[data-more]", scope);
  const empty = $("[data-empty]", scope);
  let cursor = null;
  async function load(reset) {
    if (reset) cursor = null;
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    const page = await api("GET", `${path}?${query}`);
    if (reset) rows.replaceChildren();
    for (const item of page.items) rows.append(renderRow(item));
    cursor = page.nextCursor;
    more.hidden = !cursor;
    if (empty) {  // an empty list is its sentence, without the table's bare header
      empty.hidden = rows.children.length > 0;
      rows.closest("table").hidden = !empty.hidden;
    }
  }
  more.addEventListener("click", () => load(false).catch(report));
  return { reload: () => load(true), render: renderRow };
}

// Forms and buttons are disabled in the HTML until their handler is wired: a click that comes
// before the script would otherwise submit the form to the page itself.
function ready(control) {
  const button = control.matches("form") ? $("button[type=submit]", control) : control;
  button.disabled = false;
}

function report(error) {
  showAlert(error instanceof ApiError ? error.message : "Something went wrong. Reload the page and try again.");
}

// --- signed-in pages: the header, the settings navigation ------------------------------------

async function whoAmI() {
  if (!session.token()) {
    session.signOut("Sign in to continue.");
    await new Promise(() => {});
  }
  const me = await api("GET", "me");
  if (me.token.kind !== "pat") {
    session.signOut("Sign in with a personal access token: workflow agent run tokens cannot use the web UI.");
    await new Promise(() => {});
  }
  $("[data-who]").textContent = me.email;
  $(".account").hidden = false;
  renderSettingsNav(me);
  renderExpiryBanner(me.token);
  return me;
}

// On every signed-in page: the tab's own token expires within 7 days. The tokens page puts a
// Rotate button in it (wired by that page); the others link there.
function renderExpiryBanner(token) {
  const banner = $("[data-expiry-banner]");
  banner.hidden = !expiresSoon(token.expiresAt);
  if (banner.hidden) return;
  const when = expiryText(token.expiresAt);
  $("[data-expiry-heading]", banner).textContent =
    when === "expired" ? "Your token has expired" : `Your token expires ${when}`;
  $("[data-expiry-text]", banner).textContent = `This tab is signed in with “${token.name}”, which stops working `
    + `on ${dateTimeFormat.format(new Date(token.expiresAt))}. Rotate it to get a successor with the same `
    + "name and scope, and update wherever else you use it.";
  const action = $("[data-expiry-action]", banner);
  if (PAGE === "tokens") {
    if (!$("[data-rotate-self]", action)) {
      action.replaceChildren(el("button", { type: "button", "data-rotate-self": "", disabled: "", text: "Rotate this token" }));
    }
  } else {
    action.replaceChildren(el("a", { href: url("settings/personal/tokens"), text: "Rotate it on the tokens page" }));
  }
}

function renderSettingsNav(me) {
  const nav = $("[data-settings-nav]");
  if (!nav) return;
  const link = (page, label) => {
    const a = el("a", { href: url(page), text: label });
    if (PAGE === page.split("/").pop()) a.setAttribute("aria-current", "page");
    return el("li", {}, a);
  };
  nav.replaceChildren(
    el("h2", { text: "Personal" }), el("ul", {}, link("settings/personal/tokens", "Tokens")),
  );
  if (me.token.scope === "admin") {
    nav.append(el("h2", { text: "Admin" }), el("ul", {}, link("settings/admin/users", "Users"),
      link("settings/admin/invites", "Invites"), link("settings/admin/token-policy", "Token policy")));
  }
}

function isAdmin(me) {
  if (me.token.scope === "admin") return true;
  $(".content").replaceChildren(el("h1", { text: "Admin only" }),
    el("p", { text: "These pages need a token with admin scope. Sign in with one to manage users, invites and the token policy." }));
  return false;
}

// --- the pages -------------------------------------------------------------------------------

async function home() {
  location.replace(url(session.token() ? "settings/personal/tokens" : "sign-in"));
}

async function signInPage() {
  const notice = session.takeNotice();
  if (notice) showAlert(notice);
  else if (session.token()) return location.replace(url("settings/personal/tokens"));
  const form = $("[data-form=sign-in]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = form.elements.token;
    const token = field.value.trim();
    const button = $("button[type=submit]", form);
    button.disabled = true;
    try {
      const me = await api("GET", "me", { token, signOutOn401: false });
      if (me.token.kind !== "pat") {
        field.value = "";
        showAlert("That is a workflow agent run token. Sign in with a personal access token (oi_pat_…) instead.");
        return;
      }
      session.signIn(token);
      field.value = "";
      go("settings/personal/tokens");
    } catch (error) {
      field.value = "";
      showAlert(error.status === 401 ? `That token was refused: ${error.message}` : error.message);
      field.focus();
    } finally {
      button.disabled = false;
    }
  });
  ready(form);
}

async function tokensPage() {
  const me = await whoAmI();
  const scope = $("#scope");
  if (me.token.scope === "admin") {
    scope.append(el("option", { value: "admin", text: "admin: read_write plus user and invite administration" }));
  }
  const expires = $("#expires");
  expires.min = new Date(Date.now() + DAY).toISOString().slice(0, 10);

  const newToken = $("[data-new-token]");
  const revealOnce = (heading, note, value) => {
    $("[data-new-token-heading]", newToken).textContent = heading;
    $("[data-rotated-note]", newToken).textContent = note;
    showOnce(newToken, value);
  };

  // Rotation: confirmed with how long the old token keeps working; the successor is shown once.
  // Rotating the tab's own token switches the tab to the successor, so it stays signed in.
  async function rotate(pat, opener) {
    const current = pat.id === me.token.id;
    const ok = await confirmAction(`Rotate ${pat.name}?`,
      "A new token with the same name and scope replaces it, shown once"
      + (pat.expiresAt ? ", with a lifetime as long as this one's. " : ", also without expiry. ")
      + (current ? "This is the token this tab is signed in with: the tab switches to the new one. " : "")
      + "Update everything that uses the old token before it stops working.", "Rotate", { askGrace: true });
    if (!ok) return opener.focus();
    const grace = $("#grace");
    const graceSeconds = Number(grace.value);
    const graceLabel = grace.selectedOptions[0].textContent;
    try {
      const rotated = await api("POST", `me/pats/${encodeURIComponent(pat.id)}/rotate`, { body: { graceSeconds } });
      showAlert("");
      const stops = graceSeconds === 0 ? "has stopped working"
        : `keeps working for ${graceLabel}`;
      let note = `“${pat.name}” was rotated: the old token ${stops}.`;
      if (current) {
        session.signIn(rotated.token);
        me.token = { ...me.token, id: rotated.id, expiresAt: rotated.expiresAt };
        renderExpiryBanner(me.token);
        wireRotateSelf();
        note += " This tab now uses the new token, so it stays signed in.";
      }
      revealOnce("Token rotated", note, rotated.token);
      await list.reload();
    } catch (error) { report(error); }
  }

  function wireRotateSelf() {
    const button = $("[data-rotate-self]");
    if (!button || button.dataset.wired) return;
    button.dataset.wired = "yes";
    button.addEventListener("click", () => rotate(me.token, button));
    button.disabled = false;
  }

  const list = pagedList("me/pats", (pat) => {
    const name = el("td", {}, pat.name);
    if (pat.id === me.token.id) name.append(" ", el("span", { class: "badge", text: "this tab" }));
    if (pat.rotatedTo) {
      name.append(" ", el("span", { class: "badge rotated", title: `Rotated to ${pat.rotatedTo}`, text: "rotated" }));
    }
    const actions = el("div", { class: "actions" });
    if (!pat.rotatedTo) {
      const rotateButton = el("button", { type: "button", "aria-label": `Rotate ${pat.name}`, text: "Rotate" });
      rotateButton.addEventListener("click", () => rotate(pat, rotateButton));
      actions.append(rotateButton);
    }
    const remove = el("button", { type: "button", class: "danger", "aria-label": `Delete ${pat.name}`, text: "Delete" });
    remove.addEventListener("click", async () => {
      const current = pat.id === me.token.id;
      const ok = await confirmAction(`Delete ${pat.name}?`,
        (current ? "This is the token this tab is signed in with: deleting it signs you out. " : "")
        + "Anything using it is refused from its next request on. This cannot be undone.", "Delete");
      if (!ok) return remove.focus();
      try {
        await api("DELETE", `me/pats/${encodeURIComponent(pat.id)}`);
        if (current) return session.signOut("You deleted the token this tab was signed in with.");
        remove.closest("tr").remove();
        showAlert("");
        $("#name").focus();
      } catch (error) { report(error); }
    });
    actions.append(remove);
    return el("tr", {}, name, el("td", { text: pat.scope }), timeCell(pat.createdAt),
      expiryCell(pat.expiresAt, { warn: true }), lastUsedCell(pat), el("td", {}, actions));
  }, { scope: $("[data-tokens]") });
  const events = securityEvents();

  const form = $("[data-form=create-token]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { name: form.elements.name.value.trim(), scope: form.elements.scope.value };
    if (expires.value) {
      const [year, month, day] = expires.value.split("-").map(Number);
      // The end of the chosen day, where the user is.
      body.expiresAt = new Date(year, month - 1, day, 23, 59, 59).toISOString().replace(/\.\d{3}Z$/, "Z");
    }
    try {
      const created = await api("POST", "me/pats", { body });
      showAlert("");
      form.reset();
      revealOnce("Token created", "", created.token);
      await list.reload();
    } catch (error) { report(error); }
  });
  ready(form);
  wireRotateSelf();
  await Promise.all([list.reload(), events.reload()]);
}

// What the API's event types mean, for a person; an unknown type is shown as it is.
const EVENT_LABELS = {
  token_leak_revoked: "Revoked: found leaked",
  token_used_after_rotation: "Used after rotation",
  rotation_replayed: "Rotation replayed",
  token_revoked_by_admin: "Revoked by an admin",
  tokens_revoked_all: "All tokens revoked",
  token_blocked_by_policy: "Blocked by the token policy",
  access_link_created: "Re-access link created",
};
// A log under the tokens table: a short first page keeps the tokens in view.
const EVENTS_PAGE_SIZE = 10;

// The tab's person's security log (GET /me/security-events), newest first. Every string in it
// comes from the server (a token's name, the detail): text only.
function securityEvents() {
  return pagedList("me/security-events", (event) => el("tr", {},
    el("td", {}, el("time", { datetime: event.at, title: event.at, text: dateTimeFormat.format(new Date(event.at)) })),
    el("td", { text: EVENT_LABELS[event.type] || event.type }),
    el("td", { text: event.tokenName ?? "—" }),
    el("td", { class: "detail", text: event.detail })),
  { scope: $("[data-events]"), limit: EVENTS_PAGE_SIZE });
}

async function invitePage() {
  const claim = $("[data-claim]");
  const help = $("[data-invite-help]");
  if (!INVITE_TOKEN) {
    claim.hidden = true;
    help.hidden = false;
    help.textContent = "Open this page from the link in your invite (it ends in #token=…). "
      + "If you no longer have it, ask an admin for a new one.";
    return;
  }
  const button = $("[data-claim-button]");
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const claimed = await api("POST", "auth/invites/claim",
        { body: { token: INVITE_TOKEN }, token: null, signOutOn401: false });
      claim.hidden = true;
      showAlert("");
      $("[data-claimed-email]").textContent = claimed.user.email;
      $("[data-claimed-role]").textContent = claimed.user.role;
      const section = $("[data-claimed]");
      showOnce(section, claimed.pat.token);
      $("[data-continue]").addEventListener("click", () => {
        session.signIn($("#new-token").value);
        go("settings/personal/tokens");
      });
    } catch (error) {
      button.disabled = false;
      if (error.status === 409) {
        claim.hidden = true;
        showAlert("This link was already used. Sign in with your token instead.");
        help.hidden = false;
        help.replaceChildren(el("a", { href: url("sign-in"), text: "Go to sign in" }));
      } else if (error.status === 410) {
        claim.hidden = true;
        showAlert(`This link cannot be used. ${error.message}`);  // expired, revoked, or the account deactivated
      } else if (error.status === 404) {
        claim.hidden = true;
        showAlert(`${error.message} Check that you opened the whole link, or ask an admin for a new one.`);
      } else {
        report(error);
      }
    }
  });
  ready(button);
}

async function usersPage() {
  const me = await whoAmI();
  if (!isAdmin(me)) return;
  const linkSection = $("[data-link]");

  const list = pagedList("admin/users", (user) => {
    const row = el("tr");
    const act = (label, handler) => {
      const button = el("button", { type: "button", "aria-label": `${label} ${user.email}`, text: label });
      button.addEventListener("click", async () => {
        try {
          await handler();
        } catch (error) { report(error); }
      });
      return button;
    };
    const patch = async (change) => {
      const updated = await api("PATCH", `admin/users/${encodeURIComponent(user.id)}`, { body: change });
      showAlert("");
      row.replaceWith(list.render(updated));
    };
    const active = user.status === "active";
    const actions = el("div", { class: "actions" },
      act(active ? "Deactivate" : "Reactivate", async () => {
        if (active && !await confirmAction(`Deactivate ${user.email}?`,
          "Their tokens are refused from their next request on, until you reactivate them.", "Deactivate")) return;
        await patch({ status: active ? "deactivated" : "active" });
      }),
      act(user.role === "admin" ? "Make member" : "Make admin", () =>
        patch({ role: user.role === "admin" ? "member" : "admin" })),
      act("Revoke all tokens", async () => {
        if (!await confirmAction(`Revoke all tokens of ${user.email}?`,
          "Every token they hold now is refused from its next request on.", "Revoke all")) return;
        await api("POST", `admin/users/${encodeURIComponent(user.id)}/pats/revoke-all`);
        if (user.id === me.id) return session.signOut("You revoked all your tokens, this one included.");
        showAlert("");
      }),
      act("Access link", async () => {
        const link = await api("POST", `admin/users/${encodeURIComponent(user.id)}/access-links`, { body: {} });
        showAlert("");
        $("[data-link-email]").textContent = user.email;
        showOnce(linkSection, link.inviteUrl);
      }),
    );
    row.append(el("td", { text: user.email }), el("td", { text: user.role }), el("td", { text: user.status }),
      timeCell(user.createdAt), el("td", {}, actions));
    return row;
  });
  await list.reload();
}

async function invitesPage() {
  const me = await whoAmI();
  if (!isAdmin(me)) return;
  const list = pagedList("admin/invites", (invite) => {
    const revoke = el("button", { type: "button", class: "danger", "aria-label": `Revoke ${invite.email}`, text: "Revoke" });
    revoke.addEventListener("click", async () => {
      if (!await confirmAction(`Revoke the invite of ${invite.email}?`,
        "The link stops working at once.", "Revoke")) return revoke.focus();
      try {
        await api("DELETE", `admin/invites/${encodeURIComponent(invite.id)}`);
        revoke.closest("tr").remove();
        showAlert("");
      } catch (error) { report(error); }
    });
    const sender = invite.createdBy.email || invite.createdBy.userId;
    // Revoked because the token that sent it was revoked since: claiming it answers 410.
    const action = invite.status === "revoked"
      ? el("span", { class: "badge", text: "Revoked: the token that sent it was revoked" }) : revoke;
    return el("tr", {}, el("td", { text: invite.email }), el("td", { text: invite.role }),
      el("td", { text: invite.userId ? "access link" : "invite" }), el("td", { text: sender }),
      timeCell(invite.createdAt), expiryCell(invite.expiresAt), el("td", {}, action));
  });
  const form = $("[data-form=invite]");
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { email: form.elements.email.value.trim(), role: form.elements.role.value };
    try {
      const sent = await api("POST", "admin/invites", { body });
      showAlert("");
      form.reset();
      $("[data-link-email]").textContent = sent.email;
      showOnce($("[data-link]"), sent.inviteUrl);
      await list.reload();
    } catch (error) { report(error); }
  });
  ready(form);
  await list.reload();
}

const people = (count) => (count === 1 ? "1 person" : `${count} people`);

// "No tokens would be blocked" or "3 tokens of 2 people would be blocked".
function impactSummary(impact) {
  if (impact.tokensBlocked === 0) return "No tokens would be blocked.";
  return `${plural(impact.tokensBlocked, "token")} of ${people(impact.usersAffected)} would be blocked.`;
}

// The token policy: loaded from GET, previewed with the impact route, saved with PUT. Save is
// enabled only for the values last previewed, so nobody saves a policy whose effect they have
// not seen; it asks first when the preview blocked any token.
async function tokenPolicyPage() {
  const me = await whoAmI();
  if (!isAdmin(me)) return;
  const form = $("[data-form=token-policy]");
  const { maxLifetimeDays, requireExpiry, adminMaxLifetimeDays, runTokenMaxSeconds } = form.elements;
  const previewButton = $("[data-preview]", form);
  const saveButton = $("button[type=submit]", form);
  const saveHint = $("[data-save-hint]", form);
  const saved = $("[data-saved]");
  const impactSection = $("[data-impact]");

  const days = (value) => (value === null ? "" : String(value));
  function fill(policy) {
    maxLifetimeDays.value = days(policy.maxLifetimeDays);
    requireExpiry.checked = policy.requireExpiry;
    adminMaxLifetimeDays.value = days(policy.adminMaxLifetimeDays);
    runTokenMaxSeconds.value = String(policy.runTokenMaxSeconds);
  }
  // The form as the API's policy object (blank days: null, no limit).
  function read() {
    const number = (field) => (field.value.trim() === "" ? null : Number(field.value));
    return {
      maxLifetimeDays: number(maxLifetimeDays),
      requireExpiry: requireExpiry.checked,
      adminMaxLifetimeDays: number(adminMaxLifetimeDays),
      runTokenMaxSeconds: number(runTokenMaxSeconds),
    };
  }

  // { key, impact, saved }: the values last previewed, what they block, whether they were saved since
  let previewed = null;
  function sync() {
    const current = previewed !== null && previewed.key === JSON.stringify(read());
    saveButton.disabled = !current || previewed.saved;
    saveHint.hidden = current;
    impactSection.hidden = !current;
  }

  function showImpact(impact) {
    $("[data-impact-summary]").textContent = impactSummary(impact);
    $("[data-impact-table]").hidden = impact.sample.length === 0;
    $("[data-impact-rows]").replaceChildren(...impact.sample.map((token) => el("tr", {},
      el("td", { text: token.email }), el("td", { text: token.name }), el("td", { text: token.scope }),
      expiryCell(token.expiresAt), el("td", { text: token.reason }))));
    const more = $("[data-impact-more]");
    more.hidden = impact.tokensBlocked <= impact.sample.length;
    more.textContent = `The first ${impact.sample.length} are listed.`;
  }

  previewButton.addEventListener("click", async () => {
    saved.textContent = "";
    if (!form.reportValidity()) return;
    const policy = read();
    const key = JSON.stringify(policy);
    const query = new URLSearchParams({ requireExpiry: String(policy.requireExpiry) });
    if (policy.maxLifetimeDays !== null) query.set("maxLifetimeDays", String(policy.maxLifetimeDays));
    if (policy.adminMaxLifetimeDays !== null) query.set("adminMaxLifetimeDays", String(policy.adminMaxLifetimeDays));
    previewButton.disabled = true;
    try {
      const impact = await api("GET", `admin/settings/token-policy/impact?${query}`);
      showAlert("");
      showImpact(impact);
      previewed = { key, impact, saved: false };
    } catch (error) {
      report(error);
    } finally {
      previewButton.disabled = false;
      sync();
    }
  });

  form.addEventListener("input", () => { saved.textContent = ""; sync(); });
  form.addEventListener("change", sync);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const policy = read();
    if (previewed === null || previewed.key !== JSON.stringify(policy)) return sync();
    const { impact } = previewed;
    if (impact.tokensBlocked > 0 && !await confirmAction("Save the token policy?",
      `${impactSummary(impact).replace(/\.$/, "")} from their next request on, until the policy is relaxed. `
      + "Their holders are told, and can make new tokens that fit it.", "Save policy")) return saveButton.focus();
    saveButton.disabled = true;
    try {
      fill(await api("PUT", "admin/settings/token-policy", { body: policy }));
      showAlert("");
      saved.textContent = "Token policy saved.";
      previewed.saved = true; // in force: Save again only after a change and its preview
    } catch (error) {
      report(error);
    } finally {
      sync();
    }
  });

  fill(await api("GET", "admin/settings/token-policy"));
  sync();
  previewButton.disabled = false;
}

const PAGES = {
  home, "sign-in": signInPage, tokens: tokensPage, invite: invitePage, users: usersPage, invites: invitesPage,
  "token-policy": tokenPolicyPage,
};

function start() {
  $("[data-sign-out]").addEventListener("click", () => session.signOut(null));
  $(".brand").href = url("");
  wireCopyButtons();
  const page = PAGES[PAGE];
  if (page) page().catch(report);
}

start();
