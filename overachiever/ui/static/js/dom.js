// Small DOM helpers. Text always goes in as text nodes, never as HTML, so names cannot inject markup.

/** Create an element: h("button", {class: "x", onclick: fn}, "Label", child, ...). */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append children (strings, nodes, nested arrays; null and false are skipped). */
export function append(parent, children) {
  const stack = [children];
  const flat = [];
  // Iterative flattening keeps the order of nested arrays.
  while (stack.length) {
    const item = stack.pop();
    if (Array.isArray(item)) {
      for (let i = item.length - 1; i >= 0; i--) stack.push(item[i]);
    } else if (item !== null && item !== undefined && item !== false) {
      flat.push(item instanceof Node ? item : document.createTextNode(String(item)));
    }
  }
  parent.append(...flat);
  return parent;
}

let counter = 0;

/** A page-unique id for label/control pairs. */
export function uid(prefix = "f") {
  counter += 1;
  return `${prefix}-${counter}`;
}

/** A labelled form field: returns {wrap, input}. kind is an input type, "textarea" or "checkbox". */
export function field(label, props = {}, { hint = null, kind = "text" } = {}) {
  const id = props.id || uid("field");
  const hintId = hint ? `${id}-hint` : null;
  const control =
    kind === "textarea"
      ? h("textarea", { ...props, id, "aria-describedby": hintId })
      : h("input", { type: kind, ...props, id, "aria-describedby": hintId });
  if (kind === "checkbox") {
    const wrap = h("div", { class: "field check" }, control, h("label", { for: id }, label));
    return { wrap, input: control };
  }
  const wrap = h(
    "div",
    { class: "field" },
    h("label", { for: id }, label),
    control,
    hint ? h("p", { class: "hint", id: hintId }, hint) : null,
  );
  return { wrap, input: control };
}

const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const dateTimeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

/** A timestamp as a local date ("Nov 21, 2026"). */
export function formatDate(iso) {
  return iso ? dateFormat.format(new Date(iso)) : "";
}

/** A timestamp as a local date and time. */
export function formatDateTime(iso) {
  return iso ? dateTimeFormat.format(new Date(iso)) : "";
}

const exactFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "full", timeStyle: "medium" });

/** A timestamp to the second, for a title ("Wednesday, December 2, 2026 at 12:44:38 PM"). */
export function formatExact(iso) {
  return iso ? exactFormat.format(new Date(iso)) : "";
}

/** How long ago a timestamp was, in words: "just now", "5 min ago", "2 h ago", "3 d ago", a date. */
export function relativeTime(iso, now = Date.now()) {
  const seconds = Math.max(0, (now - Date.parse(iso)) / 1000);
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.floor(hours / 24);
  if (days < 30) return `${days} d ago`;
  return formatDate(iso);
}

/** A <time> saying how long ago `iso` was, with the exact time in its title. */
export function timeAgo(iso) {
  return h("time", { datetime: iso, title: formatExact(iso) }, relativeTime(iso));
}

/** A timestamp as the value of an <input type="datetime-local"> (local time, to the second). */
export function toDateTimeInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return `${date}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** An <input type="datetime-local"> value (local time) as an instant in UTC, ISO 8601 (or null). */
export function fromDateTimeInput(value) {
  if (!value) return null;
  const d = new Date(value); // a date-time without an offset is local time
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A timestamp as the value of an <input type="date"> (local calendar day). */
export function toDateInput(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** An <input type="date"> value as the last second of that local day, in ISO 8601 (or null). */
export function fromDateInput(value) {
  if (!value) return null;
  const [y, m, d] = value.split("-").map(Number);
  return new Date(y, m - 1, d, 23, 59, 59).toISOString();
}

/** A whole percentage for a progress fraction; 100 only when it is really complete. */
export function percent(progress) {
  return Math.min(100, Math.floor((Number(progress) || 0) * 100 + 1e-9));
}

/** Quote a name for messages. */
export function quoted(name) {
  return `\u201c${name}\u201d`;
}

const LISTED_NAMES = 5;

/**
 * Goals by name for a message: "Paint, Sand, … (12 goals)"; the count only when there are
 * several. goalName(id) names a goal, or null when the page does not know it ("goal #7").
 */
export function nameList(ids, goalName = null, max = LISTED_NAMES) {
  const names = ids.slice(0, max).map((id) => (goalName ? goalName(id) : null) ?? `goal #${id}`);
  const more = ids.length > max ? ", …" : "";
  const count = ids.length > 1 ? ` (${ids.length} goals)` : "";
  return `${names.join(", ")}${more}${count}`;
}
