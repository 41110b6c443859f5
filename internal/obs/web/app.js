// The fleet page: reads /api/fleet, /api/backlog and /api/series and draws
// them. Plain script, no libraries, no network access beyond this server.
"use strict";

const STATES = [
  ["ok", "fresh"], ["late", "late"], ["overdue", "overdue"], ["error", "failing"],
  ["pending", "pending"], ["unavailable", "unavailable here"], ["disabled", "disabled"],
];
const REFRESH_MS = 15000;
const CHART_REFRESH_MS = 60000;

let fleet = null;

// el builds an element: attributes from an object, children as nodes or text.
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null) continue;
    // style goes through the CSSOM: the page's Content-Security-Policy
    // refuses style attributes.
    if (k === "class") e.className = v; else if (k === "style") e.style.cssText = v; else e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// getJSON reads the page's own JSON. When the collector has users (the
// API is on) it answers only with the signed-in user's connections, so
// the token of the panel below is sent when there is one.
async function getJSON(url) {
  const opts = { cache: "no-store", credentials: "omit", headers: {} };
  const token = sessionStorage.getItem("pgcollector.token");
  if (token) opts.headers.Authorization = "Bearer " + token;
  const r = await fetch(url, opts);
  const body = await r.json();
  if (!r.ok) throw Object.assign(new Error(body.error || r.statusText), { status: r.status });
  return body;
}

function seconds(s) {
  if (s === undefined || s === null) return "–";
  s = Math.round(s);
  if (s < 120) return s + "s";
  if (s < 7200) return Math.round(s / 60) + "m";
  if (s < 172800) return Math.round(s / 3600) + "h";
  return Math.round(s / 86400) + "d";
}

function ago(iso) {
  if (!iso) return "never";
  return seconds((Date.now() - Date.parse(iso)) / 1000) + " ago";
}

function bytes(n) {
  if (n < 0) return "unlimited";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : Math.round(n)) + " " + units[i];
}

function number(v, unit) {
  if (unit === "B/s") return bytes(v) + "/s";
  const a = Math.abs(v);
  const s = a >= 1e6 ? (v / 1e6).toFixed(1) + "M" : a >= 1e4 ? (v / 1e3).toFixed(1) + "k" :
    a >= 100 ? v.toFixed(0) : a >= 1 ? v.toFixed(1) : v.toFixed(2);
  return s + (unit || "");
}

function renderLegend() {
  const legend = document.getElementById("legend");
  legend.replaceChildren(...STATES.map(([s, label]) => el("span", {}, el("i", { class: "state-" + s }), label)));
}

function cellTitle(c, p) {
  const lines = [c.name + " · " + p.probe, "state: " + p.state, "interval: " + seconds(p.interval_seconds)];
  if (p.last_success) lines.push("last success: " + ago(p.last_success));
  if (p.last_error) lines.push("last error (" + ago(p.last_error_at) + "): " + p.last_error);
  if (p.reason) lines.push("unavailable: " + p.reason);
  for (const d of p.databases || []) lines.push("  " + (d.database || "(server)") + ": " + d.state);
  return lines.join("\n");
}

function renderFleet(f) {
  const badge = document.getElementById("health");
  badge.textContent = f.healthy ? "healthy" : f.problems.length + " problem" + (f.problems.length === 1 ? "" : "s");
  badge.className = "badge " + (f.healthy ? "healthy" : "unhealthy");
  document.getElementById("generated").textContent = "as of " + new Date(f.generated_at).toLocaleTimeString();
  const box = document.getElementById("fleet");
  if (!f.connections.length) {
    box.replaceChildren(el("p", { class: "muted" }, "No connections yet: add one with pgcollector connection add, or under Manage connections below."));
    return;
  }
  const probes = f.probes.filter((p) => p.enabled);
  const hidden = f.probes.length - probes.length;
  const head = el("tr", {}, el("th", {}, hidden ? el("span", { class: "muted small" }, hidden + " disabled probes hidden") : ""),
    probes.map((p) => el("th", { class: "probe", title: p.name + " every " + seconds(p.interval_seconds) }, el("span", {}, p.name))));
  const rows = f.connections.map((c) => {
    const byName = Object.fromEntries(c.probes.map((p) => [p.probe, p]));
    const up = c.up === undefined ? "" : c.up ? "up" : "down";
    const avail = c.availability_24h === undefined ? "" : " · " + (100 * c.availability_24h).toFixed(1) + "% up 24h";
    const name = el("th", { class: "conn", "data-connection": c.name }, el("span", { class: "dot " + up }), c.name,
      el("span", { class: "host" }, c.host + ":" + c.port + avail + (c.monitored ? "" : " · not monitored")));
    const cells = probes.map((p) => {
      const ps = byName[p.name] || { probe: p.name, state: c.monitored ? "pending" : "not_monitored", interval_seconds: p.interval_seconds };
      return el("td", { class: "cell state-" + ps.state, title: cellTitle(c, ps) });
    });
    return el("tr", {}, name, cells);
  });
  box.replaceChildren(el("table", { class: "grid" }, el("thead", {}, head), el("tbody", {}, rows)));
}

function renderErrors(f) {
  const box = document.getElementById("errors");
  const parts = [];
  if (f.problems.length) {
    const shown = f.problems.slice(0, 8).map((p) => el("li", {}, p));
    if (f.problems.length > 8) shown.push(el("li", { class: "muted" }, "… and " + (f.problems.length - 8) + " more: see pgcollector status"));
    parts.push(el("ul", { class: "problems" }, shown));
  }
  if (f.recent_errors.length) {
    parts.push(el("table", { class: "list" },
      el("thead", {}, el("tr", {}, ["when", "connection", "probe", "database", "error"].map((h) => el("th", {}, h)))),
      el("tbody", {}, f.recent_errors.slice(0, 20).map((e) => el("tr", {},
        el("td", { title: e.at }, ago(e.at) + (e.current ? "" : " (recovered)")), el("td", {}, e.connection),
        el("td", {}, e.probe), el("td", {}, e.database || "–"), el("td", { class: "err" }, e.error))))));
  }
  if (!parts.length) parts.push(el("p", { class: "muted" }, "No probe errors in the last 24 hours."));
  box.replaceChildren(...parts);
}

function renderBacklog(b) {
  const box = document.getElementById("backlog");
  const rows = b.streams.map((s) => {
    if (s.error) return el("tr", {}, el("td", {}, s.stream), el("td", {}, s.consumer), el("td", { colspan: 4, class: "err" }, s.error));
    const pct = s.max_bytes > 0 ? Math.min(100, 100 * s.pending_bytes / s.max_bytes) : 0;
    const cls = pct >= 80 ? "crit" : pct >= 50 ? "warn" : "";
    return el("tr", {}, el("td", {}, s.stream), el("td", {}, s.consumer), el("td", {}, s.pending),
      el("td", {}, s.ack_pending), el("td", {}, bytes(s.pending_bytes)),
      el("td", { title: bytes(s.stream_bytes) + " stored of " + bytes(s.max_bytes) },
        el("span", { class: "bar" }, el("b", { class: cls, style: "width:" + pct.toFixed(1) + "%" })), " " + pct.toFixed(1) + "%"));
  });
  const parts = [el("table", { class: "list" },
    el("thead", {}, el("tr", {}, ["stream", "consumer", "unacked", "in flight", "unacked bytes", "of limit"].map((h) => el("th", {}, h)))),
    el("tbody", {}, rows))];
  if (b.reason) parts.push(el("p", { class: "muted" }, b.reason));
  box.replaceChildren(...parts);
}

function renderConnections(f) {
  const sel = document.getElementById("conn");
  const current = sel.value || (new URLSearchParams(location.search)).get("connection");
  const opts = f.connections.map((c) => el("option", { value: String(c.id) }, c.name));
  sel.replaceChildren(...opts);
  if (current && f.connections.some((c) => String(c.id) === current)) sel.value = current;
  return sel.value;
}

// chart draws one series as an SVG line with its range on the y axis.
function chart(s, from, to) {
  const W = 380, H = 130, L = 58, R = 6, T = 6, B = 18;
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  svg.setAttribute("preserveAspectRatio", "none");
  const add = (tag, attrs, text) => {
    const n = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v);
    if (text !== undefined) n.textContent = text;
    svg.append(n);
    return n;
  };
  add("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B });
  add("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B });
  const fmtT = (ms) => new Date(ms).toLocaleTimeString([], to - from < 3600e3
    ? { hour: "2-digit", minute: "2-digit", second: "2-digit" } : { hour: "2-digit", minute: "2-digit" });
  add("text", { x: L, y: H - 4 }, fmtT(from));
  add("text", { x: W - R, y: H - 4, "text-anchor": "end" }, fmtT(to));
  const pts = s.points;
  if (!pts.length) {
    add("text", { x: (L + W) / 2, y: H / 2, "text-anchor": "middle" }, s.error ? "unavailable" : "no data in this range");
    return svg;
  }
  let lo = Math.min(...pts.map((p) => p[1])), hi = Math.max(...pts.map((p) => p[1]));
  if (lo > 0 && lo < hi / 2) lo = 0;
  if (hi === lo) { hi += Math.abs(hi) * 0.1 || 1; lo -= lo ? Math.abs(lo) * 0.1 : 0; }
  const x = (t) => L + (W - L - R) * (t - from) / Math.max(1, to - from);
  const y = (v) => T + (H - T - B) * (1 - (v - lo) / (hi - lo));
  add("text", { x: L - 4, y: T + 8, "text-anchor": "end" }, number(hi, s.unit));
  add("text", { x: L - 4, y: H - B, "text-anchor": "end" }, number(lo, s.unit));
  const d = pts.map((p, i) => (i ? "L" : "M") + x(p[0]).toFixed(1) + " " + y(p[1]).toFixed(1)).join(" ");
  add("path", { class: "area", d: d + ` L${x(pts[pts.length - 1][0]).toFixed(1)} ${H - B} L${x(pts[0][0]).toFixed(1)} ${H - B} Z` });
  add("path", { class: "line", d: d });
  if (pts.length === 1) add("circle", { cx: x(pts[0][0]), cy: y(pts[0][1]), r: 2.5, fill: "#1e88e5" });
  return svg;
}

async function loadCharts() {
  const id = document.getElementById("conn").value;
  const box = document.getElementById("charts");
  if (!id) return;
  const range = document.getElementById("range").value;
  try {
    const r = await getJSON(`/api/series?connection=${encodeURIComponent(id)}&range=${encodeURIComponent(range)}`);
    // The x axis starts at the first sample when the range reaches back
    // further than the data (a new connection), so the lines are not a
    // sliver at the right edge; all charts share it.
    const first = Math.min(...r.series.flatMap((s) => s.points.map((p) => p[0])));
    const from = Number.isFinite(first) ? Math.max(r.from, first - (r.to - first) * 0.05) : r.from;
    box.replaceChildren(...r.series.map((s) => {
      const last = s.points.length ? number(s.points[s.points.length - 1][1], s.unit) : "";
      return el("div", { class: "chart", "data-series": s.key, title: s.error || "" },
        el("h3", {}, s.title, el("span", { class: "last" }, last)), chart(s, from, r.to));
    }));
  } catch (e) {
    box.replaceChildren(el("p", { class: "err" }, "charts: " + e.message));
  }
}

async function refresh() {
  try {
    fleet = await getJSON("/api/fleet");
    renderFleet(fleet);
    renderErrors(fleet);
    const before = document.getElementById("conn").value;
    if (renderConnections(fleet) !== before) await loadCharts();
  } catch (e) {
    const signIn = e.status === 401;
    if (signIn) {
      // With users, the grid shows only the signed-in user's connections.
      fleet = { generated_at: new Date().toISOString(), healthy: true, connections: [], probes: [], recent_errors: [], problems: [] };
      renderFleet(fleet);
      renderErrors(fleet);
      renderConnections(fleet);
    }
    document.getElementById("health").textContent = signIn ? "sign in to see your connections" : "datastore unreachable";
    document.getElementById("health").className = signIn ? "badge" : "badge unhealthy";
    document.getElementById("errors").replaceChildren(el("p", { class: signIn ? "muted" : "err" }, e.message));
  }
  try {
    renderBacklog(await getJSON("/api/backlog"));
  } catch (e) {
    document.getElementById("backlog").replaceChildren(el("p", { class: "err" }, e.message));
  }
}

document.getElementById("conn").addEventListener("change", loadCharts);
document.getElementById("range").addEventListener("change", loadCharts);
renderLegend();
refresh();
setInterval(refresh, REFRESH_MS);
setInterval(loadCharts, CHART_REFRESH_MS);
