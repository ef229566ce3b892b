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
  // The gateway's 401 cannot say why; the token's holder asks token-check.
  const why = response.status === 401 && token ? await whyRefused(token) : null;
  const failure = new ApiError(response.status, error.code || "error",
    why || error.message || `The service answered ${response.status}.`);
  if (response.status === 401 && signOutOn401) {
    session.signOut(`You were signed out: ${refusalInWords(failure.message)}`);
    await new Promise(() => {}); // the page is going away; nothing after this should run
  }
  throw failure;
}

// Why the API refuses a token, as POST /auth/token-check tells its holder (null if it does not say).
async function whyRefused(token) {
  try {
    const response = await fetch(url("auth/token-check"), {
      method: "POST", headers: { Accept: "application/json", "Content-Type": "application/json" },
      body: JSON.stringify({ token }), cache: "no-store", credentials: "omit", referrerPolicy: "no-referrer",
    });
    const answer = response.ok ? await response.json() : null;
    return answer && answer.active === false && typeof answer.message === "string" ? answer.message : null;
  } catch {
    return null;
  }
}

// --- times and messages in words -------------------------------------------------------------

const MINUTE = 60 * 1000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// Within this much of its expiry a token is flagged: a warning badge, and the banner for the tab's own.
const EXPIRY_WARNING = 7 * DAY;
const USER_AGENT_SHOWN = 40;
const dateFormat = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
// A moment people act on (an expiry, a limit): local time, with its zone, so nobody converts.
const momentFormat = new Intl.DateTimeFormat(undefined, {
  weekday: "short", year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  timeZoneName: "short",
});
// A bare date of the form ("2027-01-01"), which means a UTC day.
const utcDayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeZone: "UTC" });

const moment = (iso) => momentFormat.format(new Date(iso));
const utcDay = (value) => utcDayFormat.format(new Date(`${value}T00:00:00Z`));
const isoSeconds = (date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");
const utcDate = (date) => date.toISOString().slice(0, 10);
const plural = (count, unit) => `${count} ${unit}${count === 1 ? "" : "s"}`;
const lowerFirst = (text) => (text ? text[0].toLowerCase() + text.slice(1) : text);
const upperFirst = (text) => (text ? text[0].toUpperCase() + text.slice(1) : text);

const ISO_TIME = /\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})/g;
// The API's generic 401 points to the command line; a person in a browser gets other advice.
const CLI_ADVICE = /\s*(?:Check it with `oi auth check` or `oi profile show`|Its holder can learn why with `oi auth check` or POST \/auth\/token-check)\./;

// Sentences joined, each ending once: "A." + "B" is "A. B.", never "A.. B".
function sentences(...parts) {
  return parts.filter(Boolean).map((part) => {
    const text = part.trim();
    return /[.!?…:]$/.test(text) ? text : `${text}.`;
  }).join(" ").replace(/([.!?])\.+/g, "$1");
}

// A message of the API as a person reads it: no "Invalid request:" prefix, no field names, no
// ISO stamps (local time instead), no doubled full stops.
function inWords(message) {
  const text = message
    .replace(/^Invalid request:\s*/i, "")
    .replace(CLI_ADVICE, "")
    .replace(ISO_TIME, (iso) => moment(iso))
    .replace(/\bset expiresAt\b/g, "pick an expiry")
    .replace(/\bsend null\b/g, "choose No expiry")
    .replace(/\bexpiresAt\b/g, "the expiry")
    .replace(/\ballowedIps\b/g, "Allowed addresses")
    .replace(/\bpermissions family by family\b/g, "custom, family by family")
    .replace(/`([^`]*)`/g, "$1");
  return sentences(upperFirst(text));
}

// Why a token was refused, after "You were signed out:" or "That token was refused:".
function refusalInWords(message) {
  const generic = CLI_ADVICE.test(message);
  return lowerFirst(sentences(inWords(message),
    generic && "Check that you pasted the whole token (it begins with oi_pat_), or ask an admin for a re-access link"));
}

// --- small helpers for the page --------------------------------------------------------------

function showAlert(message) {
  const alert = $("[data-alert]");
  alert.textContent = message;
  alert.hidden = !message;
}

// Feedback after an action, in the page's polite live region.
function announce(message) {
  $("[data-notice]").textContent = message;
}

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "text") node.textContent = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== false && value !== undefined && value !== null) node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children);
  return node;
}

function report(error, words = {}) {
  if (!(error instanceof ApiError)) {
    showAlert("Something went wrong. Reload the page and try again.");
    return;
  }
  const own = words[error.code];
  showAlert(own ? own(error) : inWords(error.message));
}

// A value shown once belongs to the action that made it: the next action hides it and forgets it.
function retireOnce() {
  for (const section of document.querySelectorAll("[data-once]")) {
    section.hidden = true;
    const field = $("input[readonly]", section);
    if (field) field.value = "";
  }
}

// Every action: what the last one left (its one-time value, alert and notice) goes, then the
// action runs; a failure is shown in the alert in words (words: our own sentence per error code).
async function perform(action, words = {}) {
  retireOnce();
  showAlert("");
  announce("");
  try {
    await action();
  } catch (error) {
    report(error, words);
  }
}

function timeCell(iso, empty = "never") {
  if (!iso) return el("td", { text: empty });
  return el("td", {}, el("time", { datetime: iso, title: moment(iso), text: dateFormat.format(new Date(iso)) }));
}

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
  const midnight = (when) => new Date(when.getFullYear(), when.getMonth(), when.getDate()).getTime();
  const days = Math.max(1, Math.round((midnight(expiry) - midnight(now)) / DAY));
  if (days <= 30) return `in ${plural(days, "day")}`;
  return dateFormat.format(expiry);
}

const expiresSoon = (iso, now = new Date()) => Boolean(iso) && new Date(iso) - now <= EXPIRY_WARNING;

// Plain for "never" and later dates; with warn, a warning badge ("expires in 3 days") within 7
// days. Tokens warn; invites do not (they live a few days, so every one would).
function expiryCell(iso, { warn = false } = {}) {
  if (!iso) return el("td", { text: "never" });
  const text = expiryText(iso);
  if (!warn || !expiresSoon(iso)) return el("td", {}, el("time", { datetime: iso, title: moment(iso), text }));
  return el("td", {}, el("time", {
    class: "badge warn", datetime: iso, title: moment(iso), text: text === "expired" ? text : `expires ${text}`,
  }));
}

// When, from where and with what a token was last used. The user agent is whatever the client
// sent: it is only ever set as text (textContent, an attribute), never parsed as HTML.
function lastUsedCell(pat) {
  if (!pat.lastUsedAt) return el("td", { text: "never" });
  const cell = el("td", { class: "used" },
    el("time", { datetime: pat.lastUsedAt, title: moment(pat.lastUsedAt), text: dateTimeFormat.format(new Date(pat.lastUsedAt)) }));
  if (pat.lastUsedIp) cell.append(el("span", { class: "ip", text: pat.lastUsedIp }));
  const agent = pat.lastUsedUserAgent;
  if (agent) {
    const short = agent.length > USER_AGENT_SHOWN ? `${agent.slice(0, USER_AGENT_SHOWN - 1)}…` : agent;
    cell.append(el("span", { class: "agent", title: agent, text: short }));
  }
  return cell;
}

async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    if (!field) return false;
    field.focus();
    field.select();
    return Boolean(document.execCommand && document.execCommand("copy"));
  }
}

// An email as text that, when its column is narrow, breaks after the @ first (<wbr>) rather
// than anywhere: "colleague@" over "example.com".
function emailText(email) {
  const at = email.lastIndexOf("@");
  if (at < 0) return document.createTextNode(email);
  const parts = document.createDocumentFragment();
  parts.append(email.slice(0, at + 1), el("wbr"), email.slice(at + 1));
  return parts;
}

// A token's id (what the API and `oi` take), shown with a button that copies it.
function idLine(id, name) {
  const code = el("code", { class: "id", text: id });
  const button = el("button", { type: "button", class: "copy-id", "aria-label": `Copy the ID of ${name}`, text: "Copy ID" });
  button.addEventListener("click", async () => {
    const copied = await copyText(id);
    if (!copied) window.getSelection().selectAllChildren(code);
    announce(copied ? `Copied the ID of ${name}: ${id}.` : "Select the ID and copy it (Ctrl+C or ⌘C).");
  });
  return el("span", { class: "id-line" }, code, button);
}

// Asks before anything is deleted, revoked, rotated or changed: the page's <dialog>, Cancel
// focused. With askGrace, the dialog's "Old token keeps working for" choice is shown (reset to
// "Stops at once"); danger: false makes the confirming button a plain one.
function confirmAction(title, text, okLabel, { askGrace = false, danger = true } = {}) {
  const dialog = $("[data-confirm]");
  $("[data-confirm-title]", dialog).textContent = title;
  $("[data-confirm-text]", dialog).textContent = text;
  const ok = $("[data-confirm-ok]", dialog);
  ok.textContent = okLabel;
  ok.classList.toggle("danger", danger);
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
      const copied = await copyText(field.value, field);
      note.textContent = copied ? "Copied." : "Select the field and copy it (Ctrl+C or ⌘C).";
    });
  }
}

// On a narrow screen a table's rows become cards: each cell says which column it is in (its
// data-label, shown by the stylesheet; none for the actions, whose heading is for screen readers).
function labelCells(table, rows = [...table.tBodies].flatMap((body) => [...body.rows])) {
  const heads = [...table.tHead.rows[0].cells].map((th) => (th.querySelector(".visually-hidden") ? "" : th.textContent.trim()));
  for (const row of rows) {
    [...row.cells].forEach((cell, index) => { if (heads[index]) cell.dataset.label = heads[index]; });
  }
}

// A list with "Load more" while the API gives a nextCursor: the [data-rows], [data-more] and
// [data-empty] inside scope (a page with several lists gives each its section).
function pagedList(path, renderRow, { scope = document, limit = PAGE_SIZE } = {}) {
  const rows = $("[data-rows]", scope);
  const more = $("[data-more]", scope);
  const empty = $("[data-empty]", scope);
  const table = rows.closest("table");
  let cursor = null;
  function showEmpty() {  // an empty list is its sentence, without the table's bare header
    if (!empty) return;
    empty.hidden = rows.children.length > 0;
    table.hidden = !empty.hidden;
  }
  async function load(reset) {
    if (reset) cursor = null;
    const query = new URLSearchParams({ limit: String(limit) });
    if (cursor) query.set("cursor", cursor);
    const page = await api("GET", `${path}?${query}`);
    if (reset) rows.replaceChildren();
    for (const item of page.items) rows.append(renderRow(item));
    labelCells(table);
    cursor = page.nextCursor;
    more.hidden = !cursor;
    showEmpty();
  }
  // Not an action: it changes nothing, so a value shown once stays.
  more.addEventListener("click", () => load(false).catch(report));
  return {
    reload: () => load(true),
    render(item) {  // a row to put in place of another
      const row = renderRow(item);
      labelCells(table, [row]);
      return row;
    },
    remove(row) {  // a row whose item is gone: the list may be empty now
      row.remove();
      showEmpty();
    },
  };
}

// Forms and buttons are disabled in the HTML until their handler is wired: a click that comes
// before the script would otherwise submit the form to the page itself.
function ready(control) {
  const button = control.matches("form") ? $("button[type=submit]", control) : control;
  button.disabled = false;
}

// --- signed-in pages: the header, the settings navigation ------------------------------------

async function whoAmI() {
  if (!session.token()) {
    session.signOut("Sign in to continue.");
    await new Promise(() => {});
  }
  const me = await api("GET", "me");
  if (me.token.kind !== "pat" || me.token.scope === "read" || me.token.scope === "custom") {
    session.signOut(me.token.kind !== "pat"
      ? "Sign in with a personal access token: workflow agent run tokens cannot use the web UI."
      : "Sign in with a read_write or admin token: a read-only or narrowed token cannot manage tokens.");
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
    + `on ${moment(token.expiresAt)}. Rotate it to get a successor with the same `
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
  const current = nav.dataset.current || PAGE;
  const link = (page, label) => {
    const a = el("a", { href: url(page), text: label });
    if (current === page.split("/").pop()) a.setAttribute("aria-current", "page");
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

// --- tokens: rows shared by the tokens page and an admin's view of a user --------------------

// Why a listed token is refused now: the API's blocked.code, as a badge.
const BLOCKED_BADGES = { blocked_by_policy: "blocked by policy", rotated: "stopped: rotated" };

// A PAT's first cell: its name, badges (this tab, rotated, blocked) and id. Every string from
// the server (the name, the blocked message) is set as text only.
function patNameCell(pat, { current = false } = {}) {
  const cell = el("td", { class: "name" }, el("span", { class: "token-name", text: pat.name }));
  if (current) cell.append(" ", el("span", { class: "badge", text: "this tab" }));
  if (pat.blocked) {
    cell.append(" ", el("span", { class: "badge blocked", title: inWords(pat.blocked.message),
      text: BLOCKED_BADGES[pat.blocked.code] || "blocked" }));
  } else if (pat.rotatedTo) {
    cell.append(" ", el("span", { class: "badge rotated", title: `Rotated to ${pat.rotatedTo}`, text: "rotated" }));
  }
  cell.append(idLine(pat.id, pat.name));
  if (pat.blocked) cell.append(el("span", { class: "why", text: inWords(pat.blocked.message) }));
  return cell;
}

// The families of instance administration: a custom grant naming one is made with an admin
// token's limits (tests/test_web_routes.py holds this to chalicelib/model/families.py).
const ADMIN_FAMILIES = ["users", "ai_providers", "email", "instance_settings", "token_introspection"];
const familyName = (family) => family.replaceAll("_", " ");
// A family as a row of the picker names it.
const familyLabel = (family) => (family === "ai_providers" ? "AI providers" : upperFirst(familyName(family)));
// Routes only an unnarrowed token of a scope may call, as a PAT's usedScope names their use.
const PRESET_USES = { read_write: "managing tokens or minting run tokens", admin: "this service’s admin pages" };

// "write: work items, queues; read: workflows": a grant (or what a token used), family by family.
function grantInWords(permissions) {
  const said = ["write", "read"].map((level) => [level, Object.keys(permissions).filter((family) => permissions[family] === level)])
    .filter(([, families]) => families.length > 0)
    .map(([level, families]) => `${level}: ${families.map(familyName).join(", ")}`);
  return said.join("; ") || "nothing";
}

const LEVEL_RANK = { none: 0, read: 1, write: 2 };

// What a preset gives each family of a grant (admin families: only the admin preset).
function presetGrant(scope, like) {
  return Object.fromEntries(Object.keys(like).map((family) => [family, scope === "admin" ? "write"
    : ADMIN_FAMILIES.includes(family) ? "none" : scope === "read" ? "read" : "write"]));
}

// "It will no longer write work items, nor use domains at all": what narrowing ``from`` to
// ``to`` takes away, family by family (empty when nothing is).
function lossInWords(from, to) {
  const lost = (level) => Object.keys(from).filter((family) => LEVEL_RANK[from[family]] > LEVEL_RANK[to[family]]
    && to[family] === level).map(familyName);
  const unwritten = lost("read");
  const untouched = lost("none");
  const parts = [unwritten.length && `write ${unwritten.join(", ")}`, untouched.length && `use ${untouched.join(", ")} at all`]
    .filter(Boolean);
  return parts.length ? `It will no longer ${parts.join(", nor ")}` : "";
}

// What a listed PAT was seen to use: its families, and the routes only an unnarrowed token may call.
function usedInWords(pat) {
  const families = grantInWords(pat.usedPermissions);
  const preset = PRESET_USES[pat.usedScope];
  if (!preset) return families;
  return families === "nothing" ? preset : `${families}; and ${preset}`;
}

// A PAT's Access cell: its preset (or custom, and what it may do), and what it was seen to use.
function grantCell(pat) {
  const cell = el("td", { class: "grant" }, el("span", { text: pat.scope }));
  if (pat.scope === "custom") cell.append(el("span", { class: "grant-detail", text: grantInWords(pat.permissions) }));
  if (pat.allowedIps && pat.allowedIps.length > 0) {
    cell.append(el("span", { class: "grant-detail", text: `only from ${pat.allowedIps.join(", ")}` }));
  }
  if (pat.usedSince) {
    cell.append(el("span", { class: "grant-used", title: `Recorded since ${moment(pat.usedSince)}`,
      text: `used: ${usedInWords(pat)}` }));
  }
  return cell;
}

function patRow(pat, { current = false, actions }) {
  return el("tr", { class: pat.blocked ? "is-blocked" : false }, patNameCell(pat, { current }),
    grantCell(pat), timeCell(pat.createdAt), expiryCell(pat.expiresAt, { warn: !pat.blocked }),
    lastUsedCell(pat), el("td", {}, actions));
}

// A run token's row: the agent (its name), id and, narrowed at its mint, what it may do; its
// stage, the PAT that made it.
function runRow(run, { parentName, actions }) {
  const agent = el("td", { class: "name" }, el("span", { class: "token-name", text: run.agentId }),
    idLine(run.id, `the run token of ${run.agentId}`),
    run.scope === "custom" ? el("span", { class: "grant-detail", text: `may ${grantInWords(run.permissions)}` }) : "");
  const parent = el("td", {}, parentName ? el("span", { class: "token-name", text: parentName }) : "",
    el("code", { class: "id", text: run.parentId }));
  return el("tr", {}, agent, el("td", {}, el("span", { class: "token-name", text: run.stage || "—" })), parent, timeCell(run.createdAt),
    expiryCell(run.expiresAt), el("td", {}, actions));
}

// The names of the PATs listed so far, for a run token's "Made with" column.
function patNames() {
  const names = new Map();
  return {
    remember(pat) { names.set(pat.id, pat.name); return pat; },
    of: (id) => names.get(id),
  };
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
      if (me.token.scope === "read" || me.token.scope === "custom") {
        field.value = "";
        showAlert(`That token is ${me.token.scope === "read" ? "read-only" : "narrowed to some resource families"}: `
          + "it cannot manage tokens. Sign in with a read_write or admin token.");
        return;
      }
      session.signIn(token);
      field.value = "";
      go("settings/personal/tokens");
    } catch (error) {
      field.value = "";
      if (error.status === 401) showAlert(`That token was refused: ${refusalInWords(error.message)}`);
      else report(error);
      field.focus();
    } finally {
      button.disabled = false;
    }
  });
  ready(form);
}

// What the tab's token may create with a scope (GET /me's tokenLimits): the latest expiry the
// API accepts now (null: none within 100 years), whether no expiry is allowed, and what leaving
// the expiry out does ("no_expiry"; "latest": the policy fills in leftOutExpiresAt; "refused").
function limitsFor(me, scope) {
  return (me.tokenLimits && me.tokenLimits[scope])
    || { latestExpiresAt: null, noExpiryAllowed: true, leftOut: "no_expiry", leftOutExpiresAt: null };
}

const PRESET_DAYS = [7, 30, 60, 90];
// The API takes a PAT's expiry within 100 years.
const FURTHEST = 100 * 365 * DAY;

// The create form's Expires, as GitHub's: No expiry (only where allowed), 7/30/60/90 days, a
// custom date, and where no expiry is not allowed the expiry the form uses instead (the latest
// allowed, or what the policy fills in). A custom date means the start of that day in UTC
// (00:00Z), the instant `oi … --expires-at 2027-01-01` sends. Choices beyond the latest allowed
// are disabled, and the date field's min and max hold the picker to the allowed days.
function expiryPicker(me, form, families) {
  const scope = form.elements.scope;
  const choice = form.elements.expires;
  const custom = $("[data-custom-date]", form);
  const date = form.elements.expiresOn;
  const hint = $("[data-expires-hint]", form);
  const limitNote = $("[data-expiry-limit]", form);
  let limits = limitsFor(me, families.limitsScope());

  const latest = () => (limits.latestExpiresAt ? new Date(limits.latestExpiresAt) : null);
  const same = (a, b) => Boolean(a) && Boolean(b) && new Date(a).getTime() === new Date(b).getTime();
  // Where no expiry is not allowed, what the form uses unless a person picks another:
  // { at, send, label }, or null where no expiry is allowed.
  function fallback() {
    if (limits.noExpiryAllowed) return null;
    if (limits.leftOut === "latest" && limits.leftOutExpiresAt) {  // the API fills it in: nothing to send
      const longest = same(limits.leftOutExpiresAt, limits.latestExpiresAt);
      return { at: limits.leftOutExpiresAt, send: false, label: longest ? "Latest allowed" : "The policy’s default" };
    }
    if (limits.latestExpiresAt) return { at: limits.latestExpiresAt, send: true, label: "Latest allowed" };
    return null;
  }

  // The instant chosen: { at: ISO or null (no expiry), send: whether to send it } or null (no date yet).
  function chosen(now = new Date()) {
    const value = choice.value;
    if (value === "never") return { at: null, send: false };
    if (value === "default") return fallback();
    if (value === "custom") return date.value ? { at: `${date.value}T00:00:00Z`, send: true } : null;
    return { at: isoSeconds(new Date(now.getTime() + Number(value) * DAY)), send: true };
  }

  function checkDate() {
    let message = "";
    if (choice.value === "custom") {
      if (!date.value) message = "Pick the day the token expires, or another choice under Expires.";
      else if (date.value < date.min) message = `Pick a later day: the earliest is ${utcDay(date.min)}.`;
      else if (date.value > date.max) {
        message = latest() ? `Pick an earlier day: the latest allowed is ${utcDay(date.max)}.`
          : `Pick an earlier day: a token lives at most 100 years, until ${utcDay(date.max)}.`;
      }
    }
    date.setCustomValidity(message);
  }

  function describe() {
    custom.hidden = choice.value !== "custom";
    date.disabled = custom.hidden;  // a hidden field never blocks the form
    checkDate();
    const picked = chosen();
    if (picked === null) hint.textContent = "The token expires as that day begins in UTC (00:00 UTC), as with oi’s --expires-at.";
    else if (picked.at === null) hint.textContent = "The token never expires.";
    else {
      const at = new Date(picked.at);
      const utc = choice.value === "custom" && at.getTimezoneOffset() !== 0 ? ` (00:00 UTC on ${utcDay(date.value)})` : "";
      hint.textContent = `The token expires on ${moment(picked.at)}${utc}.`;
    }
  }

  // Why no expiry is not offered, the latest date allowed and why, and what the form uses instead.
  function describeLimits() {
    const parts = [];
    if (!limits.noExpiryAllowed) {
      parts.push(me.token.expiresAt
        ? "No expiry is not allowed here: this tab’s token expires, and a token cannot outlive the token that creates it"
        : "No expiry is not allowed here: the instance’s token policy requires an expiry");
    }
    if (limits.latestExpiresAt) {
      parts.push(`The latest expiry allowed is ${moment(limits.latestExpiresAt)}`
        + (same(me.token.expiresAt, limits.latestExpiresAt) ? ", when this tab’s token expires"
          : ", the longest lifetime the token policy allows"));
    }
    const instead = fallback();
    if (instead) {
      parts.push(same(instead.at, limits.latestExpiresAt) ? "The form uses it unless you pick an earlier expiry"
        : `Left to the policy, the token expires on ${moment(instead.at)}: the form uses that unless you pick another`);
    }
    limitNote.textContent = sentences(...parts);
    limitNote.hidden = parts.length === 0;
  }

  function render() {
    limits = limitsFor(me, families.limitsScope());
    const now = new Date();
    const end = latest();
    const previous = choice.value;
    const option = (value, text, disabled = false) => el("option", { value, disabled }, text);
    const options = [];
    if (limits.noExpiryAllowed) options.push(option("never", "No expiry"));
    for (const days of PRESET_DAYS) {
      const beyond = end !== null && now.getTime() + days * DAY > end.getTime();
      options.push(option(String(days), beyond ? `${days} days (later than allowed)` : `${days} days`, beyond));
    }
    const instead = fallback();
    if (instead) options.push(option("default", `${instead.label} (${dateFormat.format(new Date(instead.at))})`));
    date.min = utcDate(new Date(now.getTime() + DAY));
    // The last day whose first instant is allowed.
    date.max = utcDate(end || new Date(now.getTime() + FURTHEST - DAY));
    options.push(option("custom", "Custom date…", date.max < date.min));
    choice.replaceChildren(...options);
    const usable = (value) => options.some((o) => o.value === value && !o.disabled);
    // No expiry where allowed (as the product docs say: blank means never), else what the form uses instead.
    const first = limits.noExpiryAllowed ? "never" : (instead ? "default" : options.find((o) => !o.disabled).value);
    choice.value = usable(previous) ? previous : first;
    describeLimits();
    describe();
  }

  scope.addEventListener("change", render);
  families.onChange(render);
  choice.addEventListener("change", describe);
  date.addEventListener("input", describe);
  date.addEventListener("change", describe);
  // The browser's bubble says it; so does the page, in its alert.
  date.addEventListener("invalid", () => showAlert(date.validationMessage));
  render();

  return {
    // What to send: { expiresAt } (or {} for none), or null after saying why nothing is sent.
    body() {
      const picked = chosen();
      if (picked === null) return null;
      const end = latest();
      if (picked.at !== null && end !== null && new Date(picked.at) > end) {  // a preset gone stale since the page loaded
        render();
        showAlert(`That is later than the latest expiry allowed, ${moment(limits.latestExpiresAt)}. Pick an earlier one.`);
        return null;
      }
      return picked.send ? { expiresAt: picked.at } : {};
    },
    reset() {
      choice.value = "";  // back to the first choice
      date.value = "";
      render();
    },
  };
}

// The create form's grant: a preset from Scope, or, with "custom", a permission for each family
// the tab's token has (none, read or write; never more than the token's own, so an admin family
// is offered only to an admin token). The scope whose limits apply: admin once an admin family
// is given, as the API stores it.
function familyPicker(me, form) {
  const scope = form.elements.scope;
  const fieldset = $("[data-families]", form);
  const rows = $("[data-family-rows]", fieldset);
  const offered = Object.keys(me.token.permissions).filter((family) => me.token.permissions[family] !== "none");
  for (const family of offered) {
    const cells = ["none", "read", "write"].map((level) => el("td", {}, el("input", {
      type: "radio", name: `family-${family}`, value: level, checked: level === "none",
      disabled: level === "write" && me.token.permissions[family] !== "write",
      "aria-label": `${familyName(family)}: ${level}` })));
    rows.append(el("tr", {}, el("th", { scope: "row", text: familyLabel(family) }), ...cells));
  }
  const chosen = () => Object.fromEntries(offered.map((family) => [family, form.elements[`family-${family}`].value]));
  const show = () => {
    fieldset.hidden = scope.value !== "custom";
    fieldset.disabled = fieldset.hidden;  // a hidden choice is never sent
  };
  scope.addEventListener("change", show);
  show();
  return {
    // The scope whose creation limits apply to the form's choice.
    limitsScope() {
      if (scope.value !== "custom") return scope.value;
      return Object.entries(chosen()).some(([family, level]) => level !== "none" && ADMIN_FAMILIES.includes(family))
        ? "admin" : "read_write";
    },
    onChange(listener) { fieldset.addEventListener("change", listener); },
    // What to send: { scope } or { permissions }, or null after saying why nothing is sent.
    body() {
      if (scope.value !== "custom") return { scope: scope.value };
      const permissions = chosen();
      if (Object.values(permissions).every((level) => level === "none")) {
        showAlert("Choose read or write for at least one family, or pick a preset under Scope.");
        return null;
      }
      return { permissions };
    },
    reset() { show(); },
  };
}

async function tokensPage() {
  const me = await whoAmI();
  const form = $("[data-form=create-token]");
  const scope = form.elements.scope;
  if (me.token.scope === "admin") {  // after read_write, the default; read stays last
    scope.insertBefore(el("option", { value: "admin", text: "admin: read_write plus user and invite administration" }),
      scope.options[1]);
  }
  const refusedPreset = limitsFor(me, "read_write").refused;
  if (refusedPreset) {  // the policy's cap: offer only what the API accepts, and say why
    const broad = $("option[value=read_write]", scope);
    broad.disabled = true;
    broad.textContent = "read_write: not allowed by the token policy";
    scope.value = "read";
    const hint = $("[data-scope-hint]", form);
    hint.textContent = inWords(refusedPreset);
    hint.hidden = false;
  }
  const families = familyPicker(me, form);
  const expiry = expiryPicker(me, form, families);
  const names = patNames();

  const newToken = $("[data-new-token]");
  // The one-time box names the token it shows: its name, id, scope and expiry.
  const revealOnce = (verb, token) => {
    $("[data-new-token-heading]", newToken).textContent = `Token ${verb}: ${token.name}`;
    $("[data-new-token-about]", newToken).textContent = sentences(
      `ID ${token.id}, ${token.scope} scope, ${token.expiresAt ? `expires on ${moment(token.expiresAt)}` : "never expires"}`);
    showOnce(newToken, token.token);
  };

  // Rotation: confirmed with how long the old token keeps working; the successor is shown once.
  // Rotating the tab's own token switches the tab to the successor, so it stays signed in.
  async function rotate(pat, opener) {
    const current = pat.id === me.token.id;
    const ok = await confirmAction(`Rotate ${pat.name}?`, sentences(
      "A new token with the same name and scope replaces it, shown once"
      + (pat.expiresAt ? ", with a lifetime as long as this one’s" : ", also without expiry"),
      current && "This is the token this tab is signed in with: the tab switches to the new one",
      "Update everything that uses the old token before it stops working"), "Rotate", { askGrace: true });
    if (!ok) return opener.focus();
    const grace = $("#grace");
    const graceSeconds = Number(grace.value);
    const graceLabel = grace.selectedOptions[0].textContent;
    await perform(async () => {
      const rotated = await api("POST", `me/pats/${encodeURIComponent(pat.id)}/rotate`, { body: { graceSeconds } });
      const stops = graceSeconds === 0 ? "has stopped working" : `keeps working for ${graceLabel}`;
      let note = `“${pat.name}” was rotated: the old token ${stops}.`;
      if (current) {
        session.signIn(rotated.token);
        me.token = { ...me.token, id: rotated.id, expiresAt: rotated.expiresAt };
        renderExpiryBanner(me.token);
        wireRotateSelf();
        note += " This tab now uses the new token, so it stays signed in.";
      }
      revealOnce("rotated", rotated);
      announce(note);
      await list.reload();
    });
  }

  // Narrowing to what a token used: the PATCH the list offers, after saying what it keeps and
  // loses, and how long it was watched. Its value stays: whatever holds it keeps working, with less.
  async function narrowToUsed(pat, opener, current) {
    const offered = pat.narrowToUsed;
    const kept = offered.permissions || presetGrant(offered.scope, pat.permissions);
    const keeps = offered.permissions ? grantInWords(offered.permissions) : `the ${offered.scope} preset`;
    const watched = Date.now() - new Date(pat.usedSince).getTime();
    const ok = await confirmAction(`Narrow ${pat.name} to what it used?`, sentences(
      `Since ${moment(pat.usedSince)} it used: ${usedInWords(pat)}`,
      `It keeps ${keeps}`, lossInWords(pat.permissions, kept),
      watched < EXPIRY_WARNING && "It was watched for less than 7 days: a use it needs less often would be refused",
      current && "This is the token this tab is signed in with: the tab keeps only that too",
      "Its value stays the same: whatever uses it keeps working, with only that"), "Narrow", { danger: false });
    if (!ok) return opener.focus();
    await perform(async () => {
      const narrowed = await api("PATCH", `me/pats/${encodeURIComponent(pat.id)}`, { body: offered });
      announce(`“${pat.name}” was narrowed: from now on it may only ${grantInWords(narrowed.permissions)}.`);
      await list.reload();
    });
  }

  function wireRotateSelf() {
    const button = $("[data-rotate-self]");
    if (!button || button.dataset.wired) return;
    button.dataset.wired = "yes";
    button.addEventListener("click", () => rotate(me.token, button));
    button.disabled = false;
  }

  const list = pagedList("me/pats", (pat) => {
    names.remember(pat);
    const current = pat.id === me.token.id;
    const actions = el("div", { class: "actions" });
    // A rotated token cannot be rotated again (409 already_rotated); a blocked one can: its
    // successor is made to fit the policy.
    if (!pat.rotatedTo) {
      const rotateButton = el("button", { type: "button", "aria-label": `Rotate ${pat.name}`, text: "Rotate" });
      rotateButton.addEventListener("click", () => rotate(pat, rotateButton));
      actions.append(rotateButton);
    }
    if (pat.narrowToUsed && !pat.rotatedTo && !pat.blocked) {
      const narrowButton = el("button", { type: "button", "aria-label": `Narrow ${pat.name} to what it used`,
        title: "Narrow to what it used", text: "Narrow" });
      narrowButton.addEventListener("click", () => narrowToUsed(pat, narrowButton, current));
      actions.append(narrowButton);
    }
    const remove = el("button", { type: "button", class: "danger", "aria-label": `Delete ${pat.name}`, text: "Delete" });
    remove.addEventListener("click", async () => {
      const ok = await confirmAction(`Delete ${pat.name}?`, sentences(
        current && "This is the token this tab is signed in with: deleting it signs you out",
        pat.blocked ? "It is refused already; deleting it removes it from this list"
          : "Anything using it is refused from its next request on",
        "This cannot be undone"), "Delete");
      if (!ok) return remove.focus();
      await perform(async () => {
        await api("DELETE", `me/pats/${encodeURIComponent(pat.id)}`);
        if (current) return session.signOut("You deleted the token this tab was signed in with.");
        list.remove(remove.closest("tr"));
        announce(`Token “${pat.name}” deleted.`);
        $("#name").focus();
      });
    });
    actions.append(remove);
    return patRow(pat, { current, actions });
  }, { scope: $("[data-tokens]") });

  const runs = runTokensList("me/agent-run-tokens", $("[data-runs]"), names,
    (run) => `Anything using it is refused from its next request on. The agent needs a new one from ${names.of(run.parentId) ? `“${names.of(run.parentId)}”` : "its personal access token"} to go on.`);
  const events = securityEvents();

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const grant = families.body();
    if (grant === null) return;
    const expires = expiry.body();
    if (expires === null) return;
    const ranges = form.elements.allowedIps.value.split(/[\s,]+/).filter(Boolean);
    const body = { name: form.elements.name.value.trim(), ...grant, ...expires,
      ...(ranges.length > 0 ? { allowedIps: ranges } : {}) };
    await perform(async () => {
      const created = await api("POST", "me/pats", { body });
      form.reset();
      families.reset();
      expiry.reset();
      revealOnce("created", created);
      announce(`Token “${created.name}” created.`);
      await list.reload();
    }, {
      // The API's words name the field and the instant in UTC; ours say what to do.
      expiry_exceeds_token: (error) => (me.token.expiresAt ? sentences(
        `This tab’s token expires on ${moment(me.token.expiresAt)}, so a token made with it must expire by then`,
        "Pick an earlier expiry, or sign in with a longer-lived token") : inWords(error.message)),
    });
  });
  ready(form);
  wireRotateSelf();
  await list.reload();  // first: the run tokens name the PATs that made them
  await Promise.all([runs.reload(), events.reload()]);
}

// Live agent run tokens (the caller's, or for an admin one user's), each with Revoke.
function runTokensList(path, scope, names, consequence) {
  const list = pagedList(path, (run) => {
    const revoke = el("button", { type: "button", class: "danger", "aria-label": `Revoke the run token of ${run.agentId}`, text: "Revoke" });
    revoke.addEventListener("click", async () => {
      const ok = await confirmAction(`Revoke the run token of ${run.agentId}?`, sentences(consequence(run), "This cannot be undone"), "Revoke");
      if (!ok) return revoke.focus();
      await perform(async () => {
        await api("DELETE", `${path}/${encodeURIComponent(run.id)}`);
        list.remove(revoke.closest("tr"));
        announce(`The run token of ${run.agentId} was revoked.`);
      });
    });
    return runRow(run, { parentName: names.of(run.parentId), actions: el("div", { class: "actions" }, revoke) });
  }, { scope });
  return list;
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
  token_narrowed: "Token narrowed",
  token_used_from_another_address: "Used from another address",
  token_expiring: "Expires soon",
};
// A log under the tokens table: a short first page keeps the tokens in view.
const EVENTS_PAGE_SIZE = 10;

// The tab's person's security log (GET /me/security-events), newest first. Every string in it
// comes from the server (a token's name, the detail): text only.
function securityEvents() {
  return pagedList("me/security-events", (event) => el("tr", {},
    el("td", {}, el("time", { datetime: event.at, title: moment(event.at), text: dateTimeFormat.format(new Date(event.at)) })),
    el("td", { text: EVENT_LABELS[event.type] || event.type }),
    el("td", { class: "name", text: event.tokenName ?? "—" }),
    el("td", { class: "detail", text: inWords(event.detail) })),
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
      $("[data-claimed-expiry]").textContent = claimed.pat.expiresAt
        ? `It expires on ${moment(claimed.pat.expiresAt)}.` : "It does not expire.";
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
        showAlert(sentences("This link cannot be used", inWords(error.message)));  // expired, revoked, or the account deactivated
      } else if (error.status === 404) {
        claim.hidden = true;
        showAlert(sentences(inWords(error.message), "Check that you opened the whole link, or ask an admin for a new one"));
      } else {
        report(error);
      }
    }
  });
  ready(button);
}

// The re-access link box of the users and user pages: a link made for user, shown once.
async function createAccessLink(user) {
  const link = await api("POST", `admin/users/${encodeURIComponent(user.id)}/access-links`, { body: {} });
  const section = $("[data-link]");
  $("[data-link-email]", section).textContent = user.email;
  $("[data-link-expiry]", section).textContent = `It works once, until ${moment(link.expiresAt)}.`;
  showOnce(section, link.inviteUrl);
  announce(`Re-access link created for ${user.email}. Send it to them: it is shown only once.`);
}

// After a reactivation or a promotion: the person holds no token that works (or no admin one);
// a button makes the re-access link that gives them one.
function offerAccessLink(user, text) {
  const offer = $("[data-offer]");
  $("[data-offer-text]", offer).textContent = text;
  const button = $("[data-offer-button]", offer);
  const fresh = el("button", { type: "button", text: `Create a re-access link for ${user.email}` });
  fresh.addEventListener("click", () => perform(() => createAccessLink(user)));
  button.replaceWith(fresh);
  fresh.dataset.offerButton = "";
  offer.hidden = false;
}

// What a change of role or status does to tokens, said before it is made.
function userChange(user, me) {
  const you = user.id === me.id;
  const active = user.status === "active";
  const admin = user.role === "admin";
  return {
    status: active ? {
      label: "Deactivate", change: { status: "deactivated" },
      title: `Deactivate ${user.email}?`,
      text: you
        ? sentences("This is you: this tab’s token stops working at once and you will be signed out",
          "You can no longer use OpenIndex, and every token you hold is revoked for good",
          "Being reactivated later does not bring those tokens back: you would need a re-access link")
        : sentences("They can no longer use OpenIndex, and every token they hold is revoked for good",
          "Reactivating them later does not bring those tokens back: they would need a re-access link"),
      done: `${user.email} was deactivated. Every token they held is revoked.`,
      signOut: you && "You deactivated your own account: every token of yours was revoked.",
    } : {
      label: "Reactivate", change: { status: "active" }, safe: true,
      title: `Reactivate ${user.email}?`,
      text: sentences("They can use OpenIndex again, but the tokens they held before stay revoked",
        "Afterwards, send them a re-access link so they can get a new token"),
      done: `${user.email} was reactivated.`,
      offer: sentences(`${user.email} was reactivated, but the tokens they held before stay revoked`,
        "Send them a re-access link: it gives them a new token"),
    },
    role: admin ? {
      label: "Make member", change: { role: "member" },
      title: `Make ${user.email} a member?`,
      text: you
        ? sentences("This is you: this tab’s admin token stops working at once and you will be signed out",
          "Your admin-scope tokens are revoked for good: becoming an admin again does not bring those tokens back",
          "Your read_write tokens keep working")
        : sentences("Their admin-scope tokens are revoked for good: making them an admin again does not bring those "
          + "tokens back", "Their read_write tokens keep working"),
      done: `${user.email} is now a member. Their admin-scope tokens are revoked.`,
      signOut: you && "You made yourself a member: your admin tokens were revoked. Sign in with a read_write token.",
    } : {
      label: "Make admin", change: { role: "admin" }, safe: true,
      title: `Make ${user.email} an admin?`,
      text: sentences("This gives them no admin token by itself: the tokens they hold keep read_write scope",
        "Afterwards, send them a re-access link, which gives them a token with admin scope"),
      done: `${user.email} is now an admin.`,
      offer: sentences(`${user.email} is now an admin, but holds no admin token yet`,
        "Send them a re-access link: it gives them a token with admin scope"),
    },
  };
}

async function usersPage() {
  const me = await whoAmI();
  if (!isAdmin(me)) return;

  const list = pagedList("admin/users", (user) => {
    const row = el("tr");
    const you = user.id === me.id;
    const button = (label, handler, { danger = false } = {}) => {
      const node = el("button", { type: "button", class: danger ? "danger" : false, "aria-label": `${label} ${user.email}`, text: label });
      node.addEventListener("click", () => handler(node));
      return node;
    };
    const changes = userChange(user, me);
    const ask = (kind) => async (opener) => {
      const step = changes[kind];
      if (!await confirmAction(step.title, step.text, step.label, { danger: !step.safe })) return opener.focus();
      await perform(async () => {
        const updated = await api("PATCH", `admin/users/${encodeURIComponent(user.id)}`, { body: step.change });
        if (step.signOut) return session.signOut(step.signOut);
        row.replaceWith(list.render(updated));
        announce(step.done);
        if (step.offer && updated.status === "active") offerAccessLink(updated, step.offer);
      });
    };
    const actions = el("div", { class: "actions" },
      button(changes.status.label, ask("status"), { danger: !changes.status.safe }),
      button(changes.role.label, ask("role"), { danger: !changes.role.safe }),
      button("Revoke all tokens", async (opener) => {
        if (!await confirmAction(`Revoke all tokens of ${user.email}?`, sentences(
          you && "This is you: this tab’s token stops working at once and you will be signed out",
          "Every token they hold now is refused from its next request on, for good",
          "They get back in with a re-access link"), "Revoke all")) return opener.focus();
        await perform(async () => {
          await api("POST", `admin/users/${encodeURIComponent(user.id)}/pats/revoke-all`);
          if (you) return session.signOut("You revoked all your tokens, this one included.");
          announce(`Every token of ${user.email} was revoked.`);
        });
      }, { danger: true }),
    );
    if (user.status === "active") {
      actions.append(button("Re-access link", () => perform(() => createAccessLink(user))));
    }
    const email = el("td", { class: "name" }, el("a", { href: url(`settings/admin/users/${encodeURIComponent(user.id)}`) }, emailText(user.email)));
    if (you) email.append(" ", el("span", { class: "badge", text: "you" }));
    row.append(email, el("td", { text: user.role }), el("td", { text: user.status }),
      timeCell(user.createdAt), el("td", {}, actions));
    return row;
  });
  await list.reload();
}

// One user, for an admin: who they are, their PATs and their live run tokens, each with Revoke.
async function userPage() {
  const me = await whoAmI();
  if (!isAdmin(me)) return;
  const id = decodeURIComponent(location.pathname.replace(/\/+$/, "").split("/").pop());
  let user;
  try {
    user = await api("GET", `admin/users/${encodeURIComponent(id)}`);
  } catch (error) {
    if (error.status !== 404) throw error;
    $(".content").replaceChildren(el("h1", { text: "No such user" }), el("p", {},
      "There is no user with this ID. ", el("a", { href: url("settings/admin/users"), text: "Back to Users" })));
    return;
  }
  document.title = `${user.email} · OpenIndex`;
  for (const node of document.querySelectorAll("[data-user-email]")) node.textContent = user.email;
  $("[data-user-facts]").replaceChildren(
    el("dt", { text: "ID" }), el("dd", {}, idLine(user.id, user.email)),
    el("dt", { text: "Role" }), el("dd", { text: user.role }),
    el("dt", { text: "Status" }), el("dd", { text: user.status }),
    el("dt", { text: "Created" }), el("dd", { text: dateFormat.format(new Date(user.createdAt)) }),
  );
  const base = `admin/users/${encodeURIComponent(user.id)}`;
  const names = patNames();
  const whose = user.id === me.id ? "your" : `${user.email}’s`;
  const pats = pagedList(`${base}/pats`, (pat) => {
    names.remember(pat);
    const current = pat.id === me.token.id;
    const revoke = el("button", { type: "button", class: "danger", "aria-label": `Revoke ${pat.name}`, text: "Revoke" });
    revoke.addEventListener("click", async () => {
      const ok = await confirmAction(`Revoke ${pat.name}?`, sentences(
        current && "This is you: it is the token this tab is signed in with, so you will be signed out",
        `Anything using ${whose} token “${pat.name}” is refused from its next request on, with the run tokens it made`,
        user.id !== me.id && "They are told in their security events",
        "This cannot be undone"), "Revoke");
      if (!ok) return revoke.focus();
      await perform(async () => {
        await api("DELETE", `${base}/pats/${encodeURIComponent(pat.id)}`);
        if (current) return session.signOut("You revoked the token this tab was signed in with.");
        pats.remove(revoke.closest("tr"));
        announce(`Token “${pat.name}” of ${user.email} revoked.`);
        await runs.reload();  // its run tokens died with it
      });
    });
    return patRow(pat, { current, actions: el("div", { class: "actions" }, revoke) });
  }, { scope: $("[data-user-pats]") });
  const runs = runTokensList(`${base}/agent-run-tokens`, $("[data-runs]"), names, () => sentences(
    "Anything using it is refused from its next request on", user.id !== me.id && "They are told in their security events"));
  await pats.reload();
  await runs.reload();
}

// Invite links live 7 days unless the admin picks another choice (the API allows 30 at most).
const INVITE_DAYS = [1, 3, 7, 14, 30];

async function invitesPage() {
  const me = await whoAmI();
  if (!isAdmin(me)) return;
  const list = pagedList("admin/invites", (invite) => {
    const what = invite.userId ? "re-access link" : "invite";
    // Revoked because the token that sent it was revoked since: claiming it answers 410, and
    // Remove only clears it from the list.
    const dead = invite.status === "revoked";
    const label = dead ? "Remove" : "Revoke";
    const revoke = el("button", { type: "button", class: "danger", "aria-label": `${label} ${invite.email}`, text: label });
    revoke.addEventListener("click", async () => {
      if (!dead && !await confirmAction(`Revoke the ${what} of ${invite.email}?`,
        "The link stops working at once.", "Revoke")) return revoke.focus();
      await perform(async () => {
        await api("DELETE", `admin/invites/${encodeURIComponent(invite.id)}`);
        list.remove(revoke.closest("tr"));
        announce(dead ? `The revoked ${what} of ${invite.email} was removed from the list.`
          : `The ${what} of ${invite.email} was revoked.`);
      });
    });
    const sender = invite.createdBy ? (invite.createdBy.email || invite.createdBy.userId) : "—";
    const action = dead
      ? [el("span", { class: "badge blocked", text: "Revoked: the token that sent it was revoked" }), " ", revoke]
      : [revoke];
    return el("tr", {}, el("td", { class: "name" }, emailText(invite.email)), el("td", { text: invite.role }),
      el("td", { text: what }), el("td", { class: "name" }, emailText(sender)),
      timeCell(invite.createdAt), expiryCell(invite.expiresAt), el("td", {}, ...action));
  });
  const form = $("[data-form=invite]");
  const lifetime = form.elements.expiresIn;
  lifetime.replaceChildren(...INVITE_DAYS.map((days) => el("option", { value: String(days), selected: days === 7 }, plural(days, "day"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = {
      email: form.elements.email.value.trim(), role: form.elements.role.value,
      expiresAt: isoSeconds(new Date(Date.now() + Number(lifetime.value) * DAY)),
    };
    await perform(async () => {
      const sent = await api("POST", "admin/invites", { body });
      form.reset();
      const section = $("[data-link]");
      $("[data-link-email]", section).textContent = sent.email;
      $("[data-link-expiry]", section).textContent = `It works once, until ${moment(sent.expiresAt)}.`;
      showOnce(section, sent.inviteUrl);
      announce(`Invite created for ${sent.email}. Send them the link: it is shown only once.`);
      await list.reload();
    });
  });
  ready(form);
  await list.reload();
}

const people = (count) => (count === 1 ? "1 person" : `${count} people`);

// "No tokens would be blocked" or "3 tokens of 2 people would be blocked", and how many broad
// tokens would not be made again when the read_write preset is refused.
function impactSummary(impact) {
  const blocked = impact.tokensBlocked === 0 ? "No tokens would be blocked."
    : `${plural(impact.tokensBlocked, "token")} of ${people(impact.usersAffected)} would be blocked.`;
  if (!impact.readWritePresetTokens) return blocked;
  return `${blocked} ${plural(impact.readWritePresetTokens, "live read_write token")} that people made `
    + "themselves (not invites’ first tokens) could not be made again; they keep working.";
}

// The token policy: loaded from GET, previewed with the impact route, saved with PUT. Save is
// enabled only for the values last previewed, so nobody saves a policy whose effect they have
// not seen; it asks first when the preview blocked any token, and stays disabled when the
// preview says the policy would block this tab's own token (the API would refuse it with 409).
async function tokenPolicyPage() {
  const me = await whoAmI();
  if (!isAdmin(me)) return;
  const form = $("[data-form=token-policy]");
  const { maxLifetimeDays, requireExpiry, adminMaxLifetimeDays, runTokenMaxSeconds, refuseReadWritePreset } = form.elements;
  const previewButton = $("[data-preview]", form);
  const saveButton = $("button[type=submit]", form);
  const saveHint = $("[data-save-hint]", form);
  const impactSection = $("[data-impact]");
  const blocksCaller = $("[data-blocks-caller]");

  const days = (value) => (value === null ? "" : String(value));
  function fill(policy) {
    maxLifetimeDays.value = days(policy.maxLifetimeDays);
    requireExpiry.checked = policy.requireExpiry;
    adminMaxLifetimeDays.value = days(policy.adminMaxLifetimeDays);
    runTokenMaxSeconds.value = String(policy.runTokenMaxSeconds);
    refuseReadWritePreset.checked = policy.refuseReadWritePreset;
  }
  // The form as the API's policy object (blank days: null, no limit).
  function read() {
    const number = (field) => (field.value.trim() === "" ? null : Number(field.value));
    return {
      maxLifetimeDays: number(maxLifetimeDays),
      requireExpiry: requireExpiry.checked,
      adminMaxLifetimeDays: number(adminMaxLifetimeDays),
      runTokenMaxSeconds: number(runTokenMaxSeconds),
      refuseReadWritePreset: refuseReadWritePreset.checked,
    };
  }

  // { key, impact, saved }: the values last previewed, what they block, whether they were saved since
  let previewed = null;
  function sync() {
    const current = previewed !== null && previewed.key === JSON.stringify(read());
    const refused = current && Boolean(previewed.impact.blocksCaller);
    saveButton.disabled = !current || previewed.saved || refused;
    saveHint.hidden = current;
    impactSection.hidden = !current;
  }

  function showImpact(impact) {
    $("[data-impact-summary]").textContent = impactSummary(impact);
    $("[data-impact-table]").hidden = impact.sample.length === 0;
    $("[data-impact-rows]").replaceChildren(...impact.sample.map((token) => el("tr", {},
      el("td", { class: "name" }, emailText(token.email)), el("td", { class: "name", text: token.name }), el("td", { text: token.scope }),
      expiryCell(token.expiresAt), el("td", { text: token.reason }))));
    labelCells($("[data-impact-table]"));
    const more = $("[data-impact-more]");
    more.hidden = impact.tokensBlocked <= impact.sample.length;
    more.textContent = `The first ${impact.sample.length} are listed.`;
    blocksCaller.hidden = !impact.blocksCaller;
    if (impact.blocksCaller) {
      $("[data-blocks-caller-title]").textContent = `This tab cannot save these values: they would block “${me.token.name}”, `
        + "the token it is signed in with.";
      $("[data-blocks-caller-text]").textContent = inWords(impact.blocksCaller.message);
    }
  }

  previewButton.addEventListener("click", async () => {
    if (!form.reportValidity()) return;
    const policy = read();
    const key = JSON.stringify(policy);
    const query = new URLSearchParams({ requireExpiry: String(policy.requireExpiry),
      refuseReadWritePreset: String(policy.refuseReadWritePreset) });
    if (policy.maxLifetimeDays !== null) query.set("maxLifetimeDays", String(policy.maxLifetimeDays));
    if (policy.adminMaxLifetimeDays !== null) query.set("adminMaxLifetimeDays", String(policy.adminMaxLifetimeDays));
    previewButton.disabled = true;
    await perform(async () => {
      const impact = await api("GET", `admin/settings/token-policy/impact?${query}`);
      showImpact(impact);
      previewed = { key, impact, saved: false };
    });
    previewButton.disabled = false;
    sync();
  });

  form.addEventListener("input", sync);
  form.addEventListener("change", sync);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const policy = read();
    if (previewed === null || previewed.key !== JSON.stringify(policy) || previewed.impact.blocksCaller) return sync();
    const { impact } = previewed;
    if (impact.tokensBlocked > 0 && !await confirmAction("Save the token policy?", sentences(
      `${impactSummary(impact).replace(/\.$/, "")} from their next request on, until the policy is relaxed`,
      "Their holders are told, and can make new tokens that fit it"), "Save policy")) return saveButton.focus();
    saveButton.disabled = true;
    await perform(async () => {
      fill(await api("PUT", "admin/settings/token-policy", { body: policy }));
      announce("Token policy saved.");
      previewed.saved = true; // in force: Save again only after a change and its preview
    });
    sync();
  });

  fill(await api("GET", "admin/settings/token-policy"));
  sync();
  previewButton.disabled = false;
}

const PAGES = {
  home, "sign-in": signInPage, tokens: tokensPage, invite: invitePage, users: usersPage, user: userPage,
  invites: invitesPage, "token-policy": tokenPolicyPage,
};

function start() {
  $("[data-sign-out]").addEventListener("click", () => session.signOut(null));
  $(".brand").href = url("");
  wireCopyButtons();
  const page = PAGES[PAGE];
  if (page) page().catch(report);
}

start();
