// The "Manage connections" panel: signs in with an API token and adds,
// edits, disables, enables and deletes the signed-in user's connections through
// /api/v1/. The token is kept in this tab's sessionStorage only — never in
// a URL, a cookie or localStorage — and is sent as a bearer header. The
// API never returns a password (has_password only) and the page never
// puts one back into a field: a saved form is reset. Uses el() and
// refresh() from app.js.
"use strict";

const TOKEN_KEY = "pgcollector.token";
const FIELDS = ["name", "host", "port", "database", "username", "password", "sslmode"];
const byId = (id) => document.getElementById(id);
let editing = null; // the connection the form edits; null when it adds one
let me = null; // who the token belongs to: GET /api/v1/me

// api calls /api/v1/PATH and resolves to {status, ok, data}. A refused
// token signs the tab out and resolves to null: callers then stop.
async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN_KEY);
  const opts = { method, cache: "no-store", credentials: "omit", headers: {} };
  if (token) opts.headers.Authorization = "Bearer " + token;
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const r = await fetch("/api/v1/" + path, opts);
  const json = (r.headers.get("Content-Type") || "").startsWith("application/json");
  const data = json ? await r.json() : null;
  if (r.status === 401 && token) {
    signOut("Signed out: the server refused the token (revoked, expired or mistyped). Sign in with another.", true);
    return null;
  }
  return { status: r.status, ok: r.ok, data };
}

function problem(r) {
  return (r.data && r.data.error) || "HTTP " + r.status;
}

function note(text, isError) {
  const p = byId("manage-note");
  p.className = isError ? "err" : "muted";
  p.replaceChildren(...[text].flat());
}

// show switches the panel between "off" (no API here), "out" and "in".
function show(state, message, isError) {
  byId("signin").hidden = state !== "out";
  byId("mine").hidden = state !== "in";
  byId("signout").hidden = state !== "in";
  if (state !== "in") byId("who").textContent = "";
  if (state === "off") {
    note(["The API is off on this collector. To manage connections here, run it with ", el("code", {}, "PGC_API_ENABLED=true"),
      " and create a token: ", el("code", {}, "pgcollector user add NAME"), ", then ",
      el("code", {}, "pgcollector token create --user NAME --name LABEL"), "."]);
  } else if (state === "out") {
    note(message || ["Sign in with an API token (", el("code", {}, "pgcollector token create --user NAME --name LABEL"),
      ") to add, edit and disable your connections."], isError);
  }
}

function signOut(message, isError) {
  sessionStorage.removeItem(TOKEN_KEY);
  me = null;
  closeForm();
  byId("conn-list").replaceChildren();
  show("out", message);
  refresh();
}

async function start() {
  let r;
  try {
    r = await api("GET", "me");
  } catch (e) {
    note("API: " + e.message, true);
    return;
  }
  if (!r) return;
  if (r.status === 404) return show("off");
  if (r.status === 401) return show("out");
  if (!r.ok) return show("out", "API: " + problem(r), true);
  me = r.data;
  show("in");
  byId("who").textContent = "signed in as " + me.username + (me.admin ? " (admin: sees every connection)" : "");
  note("");
  await list();
}

async function list() {
  const box = byId("conn-list");
  let r;
  try {
    r = await api("GET", "connections");
  } catch (e) {
    return box.replaceChildren(el("p", { class: "err" }, "API: " + e.message));
  }
  if (!r) return;
  if (!r.ok) return box.replaceChildren(el("p", { class: "err" }, problem(r)));
  if (!r.data.length) return box.replaceChildren(el("p", { class: "muted" }, "You have no connections yet."));
  const admin = Boolean(me && me.admin);
  const heads = ["name", "server", "username", "sslmode", "password", "state"].concat(admin ? ["owner"] : [], [""]);
  box.replaceChildren(el("table", { class: "list manage" },
    el("thead", {}, el("tr", {}, heads.map((h) => el("th", {}, h)))),
    el("tbody", {}, r.data.map((c) => row(c, admin)))));
}

function row(c, admin) {
  const edit = el("button", { type: "button", class: "edit" }, "Edit");
  edit.addEventListener("click", () => openForm(c));
  const toggle = el("button", { type: "button", class: "toggle" }, c.monitored ? "Disable" : "Enable");
  toggle.addEventListener("click", () => setMonitored(c, !c.monitored));
  const del = el("button", { type: "button", class: "delete" }, "Delete");
  const actions = el("td", { class: "actions" }, edit, " ", toggle, " ", del);
  del.addEventListener("click", () => confirmDelete(c, actions));
  return el("tr", { "data-connection-id": String(c.id), "data-name": c.name, class: c.monitored ? "" : "off" },
    el("td", {}, c.name), el("td", { class: "server" }, c.host + ":" + c.port + "/" + c.database),
    el("td", {}, c.username), el("td", {}, c.sslmode), el("td", {}, c.has_password ? "set" : "none"),
    el("td", { class: "state", title: c.connection_error || "" }, c.monitored ? "monitored" : "disabled"),
    admin ? el("td", {}, c.owner_username || "–") : null, actions);
}

// confirmDelete is the confirm step, in the row itself rather than a
// window.confirm() dialog: it names the connection and says what is lost,
// and Keep puts the row's buttons back untouched.
function confirmDelete(c, cell) {
  const buttons = [...cell.childNodes];
  const yes = el("button", { type: "button", class: "confirm-delete" }, "Delete for good");
  const keep = el("button", { type: "button", class: "keep" }, "Keep");
  keep.addEventListener("click", () => cell.replaceChildren(...buttons));
  yes.addEventListener("click", () => remove(c));
  cell.replaceChildren(el("span", { class: "confirm" }, "Delete " + c.name + "? Its settings and password go. "),
    yes, " ", keep);
  keep.focus();
}

async function remove(c) {
  try {
    const r = await api("DELETE", "connections/" + c.id);
    if (!r) return;
    if (editing && editing.id === c.id) closeForm();
    note(r.ok ? "Deleted " + c.name + "." : c.name + ": " + problem(r), !r.ok);
    await list();
    refresh();
  } catch (e) {
    note("API: " + e.message, true);
  }
}

async function setMonitored(c, on) {
  try {
    const r = await api("POST", "connections/" + c.id + (on ? "/enable" : "/disable"));
    if (!r) return;
    note(r.ok ? (on ? "Enabled " : "Disabled ") + c.name + "." : c.name + ": " + problem(r), !r.ok);
    await list();
    refresh();
  } catch (e) {
    note("API: " + e.message, true);
  }
}

function clearErrors(form) {
  for (const s of form.querySelectorAll(".field-error")) s.textContent = "";
  for (const i of form.querySelectorAll("[aria-invalid]")) i.removeAttribute("aria-invalid");
}

// fieldError puts the API's message next to the field it names, or under
// the form when it names none of the form's fields.
function fieldError(form, field, message) {
  const spot = (field && form.querySelector(`.field-error[data-field="${CSS.escape(field)}"]`)) ||
    form.querySelector('.field-error[data-field=""]');
  spot.textContent = message;
  const input = field && form.elements[field];
  if (input) {
    input.setAttribute("aria-invalid", "true");
    input.focus();
  }
}

function openForm(c) {
  const form = byId("conn-form");
  editing = c || null;
  form.reset();
  clearErrors(form);
  byId("form-title").textContent = c ? "Edit " + c.name : "Add connection";
  if (c) for (const k of FIELDS) if (k !== "password") form.elements[k].value = String(c[k]);
  form.elements.password.placeholder = c ? (c.has_password ? "unchanged; type to replace" : "none; type to set") : "";
  form.hidden = false;
  byId("add").hidden = true;
  form.elements.name.focus();
}

function closeForm() {
  const form = byId("conn-form");
  form.reset(); // the password typed leaves the page with it
  clearErrors(form);
  form.hidden = true;
  byId("form-title").textContent = "Add connection"; // no name stays for the next user of the tab
  form.elements.password.placeholder = "";
  byId("add").hidden = false;
  editing = null;
}

// body is what the form sends: every field when adding, only the changed
// ones when editing; the password only when typed (empty: unchanged). A
// port that is not a number goes as typed, so the API names the field.
function body(form) {
  const out = {};
  for (const k of FIELDS) {
    let v = form.elements[k].value;
    if (k === "password" && v === "") continue;
    if (k === "port") v = /^\s*\d+\s*$/.test(v) ? Number(v) : v;
    if (editing && k !== "password" && String(editing[k]) === String(v)) continue;
    out[k] = v;
  }
  return out;
}

async function save(ev) {
  ev.preventDefault();
  const form = byId("conn-form");
  clearErrors(form);
  try {
    const r = editing ? await api("PATCH", "connections/" + editing.id, body(form)) : await api("POST", "connections", body(form));
    if (!r) return;
    if (!r.ok) return fieldError(form, r.data && r.data.field, problem(r));
    closeForm();
    note("Saved " + r.data.name + ".");
    await list();
    refresh();
  } catch (e) {
    fieldError(form, "", "API: " + e.message);
  }
}

byId("signin").addEventListener("submit", (ev) => {
  ev.preventDefault();
  const input = byId("token");
  const token = input.value.trim();
  input.value = ""; // the token lives in sessionStorage, not in the page
  if (!token) return fieldError(byId("signin"), "Authorization", "paste a token first");
  byId("signin").querySelector(".field-error").textContent = "";
  sessionStorage.setItem(TOKEN_KEY, token);
  start();
  refresh();
});
byId("signout").addEventListener("click", () => signOut("Signed out. The token is forgotten by this tab; it stays valid until revoked."));
byId("add").addEventListener("click", () => openForm(null));
byId("cancel").addEventListener("click", closeForm);
byId("conn-form").addEventListener("submit", save);
start();
