// Burn-up charts: leaves started and done over time, and when they will all be done at the
// recent pace. Drawn as SVG by this file; the same facts are given as text and as a table.

import { api } from "./api.js";
import { formatDate, h, quoted, uid } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const W = 640;
const H = 260;
const PAD = { left: 44, right: 16, top: 14, bottom: 28 };
const DAY = 86400e3;
const dayMonth = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", timeZone: "UTC" });

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children) el.append(child);
  return el;
}

/** "14 March", with the year when it is not this year; the day alone with dayOnly. */
function day(iso, dayOnly = false) {
  const d = new Date(iso);
  if (dayOnly) return String(d.getUTCDate());
  const text = dayMonth.format(d);
  return d.getUTCFullYear() === new Date().getUTCFullYear() ? text : `${text} ${d.getUTCFullYear()}`;
}

/** The forecast in words: "at this pace, done around 14 March (between 2 and 30 March)". */
export function forecastWords(forecast) {
  const { done_at: at, low, high } = forecast;
  if (!at || !low || !high) return "no progress in the last 28 days: no forecast";
  if (at === low && at === high && Date.parse(at) <= Date.now()) return `all done on ${day(at)}`;
  const a = new Date(low);
  const b = new Date(high);
  const sameMonth = a.getUTCFullYear() === b.getUTCFullYear() && a.getUTCMonth() === b.getUTCMonth();
  return `at this pace, done around ${day(at)} (between ${day(low, sameMonth)} and ${day(high)})`;
}

/** The chart: scope and done lines, the forecast line to done_at with its band, a due marker. */
function chart(data, due, labelId) {
  const series = data.series;
  const first = Date.parse(series[0].at);
  const last = Date.parse(series[series.length - 1].at);
  const f = data.forecast;
  const top = Math.max(1, ...series.map((p) => p.leaves));
  const span = Math.max(last - first, 7 * DAY);
  let end = last;
  for (const iso of [f.done_at, f.high, due]) if (iso) end = Math.max(end, Date.parse(iso));
  end = Math.min(end, last + 2 * span);
  const x = (t) => PAD.left + ((t - first) / Math.max(end - first, 1)) * (W - PAD.left - PAD.right);
  const y = (n) => H - PAD.bottom - (n / top) * (H - PAD.top - PAD.bottom);
  const line = (key) => series.map((p) => `${x(Date.parse(p.at)).toFixed(1)},${y(p[key]).toFixed(1)}`).join(" ");
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "burnup-chart", role: "img", "aria-labelledby": labelId });
  svg.append(
    s("line", { x1: PAD.left, y1: y(0), x2: W - PAD.right, y2: y(0), class: "axis" }),
    s("line", { x1: PAD.left, y1: y(0), x2: PAD.left, y2: PAD.top, class: "axis" }),
    s("text", { x: PAD.left - 6, y: y(top) + 4, class: "tick", "text-anchor": "end" }, String(top)),
    s("text", { x: PAD.left - 6, y: y(0) + 4, class: "tick", "text-anchor": "end" }, "0"),
    s("text", { x: PAD.left, y: H - 8, class: "tick" }, formatDate(series[0].at)),
    s("text", { x: W - PAD.right, y: H - 8, class: "tick", "text-anchor": "end" }, formatDate(new Date(end).toISOString())),
  );
  const lastPoint = series[series.length - 1];
  if (f.done_at && lastPoint.done < lastPoint.leaves) {
    // Toward `iso` (when done meets leaves), cut at the chart's end.
    const toward = (iso) => {
      const t = Date.parse(iso);
      const at = Math.min(t, end);
      const share = t > last ? (at - last) / (t - last) : 1;
      return `${x(at).toFixed(1)},${y(lastPoint.done + share * (lastPoint.leaves - lastPoint.done)).toFixed(1)}`;
    };
    const from = `${x(last).toFixed(1)},${y(lastPoint.done).toFixed(1)}`;
    svg.append(
      s("polygon", { points: `${from} ${toward(f.low)} ${toward(f.high)}`, class: "band" }),
      s("polyline", { points: `${from} ${toward(f.done_at)}`, class: "forecast" }),
    );
  }
  if (due) {
    const t = Date.parse(due);
    if (t >= first && t <= end) {
      svg.append(
        s("line", { x1: x(t), y1: PAD.top, x2: x(t), y2: y(0), class: "due" }),
        s("text", { x: x(t) + 4, y: PAD.top + 10, class: "tick due-label" }, "due"),
      );
    }
  }
  svg.append(s("polyline", { points: line("leaves"), class: "scope" }), s("polyline", { points: line("done"), class: "done" }));
  return svg;
}

/** A section that reads a burn-up (path: "/goals/burnup" or "/goals/{id}/burnup") and shows it. */
export function burnupPanel(path, { due = null, name = null } = {}) {
  const status = h("p", { class: "hint", "aria-live": "polite" }, "Loading the burn-up…");
  const bucket = h("select", { id: uid("bucket") }, h("option", { value: "day" }, "Days"), h("option", { value: "week" }, "Weeks"));
  const body = h("div", { class: "burnup-body" });
  const heading = name ? `Burn-up of ${quoted(name)}` : "Burn-up of all your goals";
  const panel = h(
    "section",
    { class: "burnup", "aria-label": "Burn-up" },
    h("div", { class: "field inline" }, h("label", { for: bucket.id }, "Buckets"), bucket),
    status,
    body,
  );

  async function load() {
    status.textContent = "Loading the burn-up…";
    let data;
    try {
      ({ data } = await api("GET", `${path}?bucket=${bucket.value}`));
    } catch (error) {
      status.textContent = `The burn-up could not be read: ${error.message || error}`;
      return;
    }
    const last = data.series[data.series.length - 1];
    const pct = last.leaves ? Math.floor((100 * last.done) / last.leaves) : 0;
    const summaryId = uid("burnup-summary");
    const summary = h(
      "p",
      { id: summaryId, class: "burnup-summary" },
      `${heading}: ${last.done} of ${last.leaves} leaf goals done (${pct}%); `,
      h("strong", {}, forecastWords(data.forecast)),
      due ? `; due ${formatDate(due)}` : "",
      ".",
    );
    const rows = data.series.map((p) =>
      h("tr", {}, h("td", {}, formatDate(p.at)), h("td", {}, String(p.leaves)), h("td", {}, String(p.done))),
    );
    // A redraw (other buckets) keeps the table open if it was.
    const wasOpen = Boolean(body.querySelector("details")?.open);
    const table = h(
      "details",
      { class: "burnup-table", open: wasOpen },
      h("summary", {}, "The numbers"),
      h(
        "table",
        {},
        h("caption", {}, `${heading}, by ${data.bucket}`),
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "End of the " + data.bucket), h("th", { scope: "col" }, "Leaf goals"), h("th", { scope: "col" }, "Done"))),
        h("tbody", {}, rows),
      ),
    );
    const legend = h(
      "p",
      { class: "burnup-legend", "aria-hidden": "true" },
      h("span", { class: "key scope" }, "scope"),
      h("span", { class: "key done" }, "done"),
      h("span", { class: "key forecast" }, "forecast and its range"),
      due ? h("span", { class: "key due" }, "due date") : null,
    );
    body.replaceChildren(summary, chart(data, due, summaryId), legend, table);
    status.textContent = "";
  }

  bucket.addEventListener("change", load);
  load();
  return panel;
}

/** A dialog with one goal's burn-up. */
export function openBurnup(goal) {
  const titleId = uid("dialog-title");
  const opener = document.activeElement;
  const close = h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Close");
  const dialog = h(
    "dialog",
    { "aria-labelledby": titleId, class: "wide" },
    h("div", { class: "dialog-form" }, h("h2", { id: titleId }, `Burn-up of ${quoted(goal.name)}`), burnupPanel(`/goals/${goal.id}/burnup`, { due: goal.due, name: goal.name }), h("div", { class: "dialog-actions" }, close)),
  );
  dialog.addEventListener("close", () => {
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
  });
  document.body.append(dialog);
  dialog.showModal();
  close.focus();
}

/** The Progress page: the burn-up of the whole forest. */
export async function renderProgress(main) {
  main.append(
    h("h1", {}, "Progress"),
    h("p", { class: "hint" }, "Leaf goals started and done over time, across all your goals, and when they will all be done at the pace of the last 28 days."),
    burnupPanel("/goals/burnup"),
  );
}
