// Goals in and out: the Export dialog (a format, the whole forest or one goal, downloaded with
// the session's token) and "Paste a list" (a Markdown task list, previewed as the tree it will
// create and checked by the server's dry run before anything is imported).

import { api, describeError, download } from "./api.js";
import { openDialog } from "./dialogs.js";
import { field, h, quoted, uid } from "./dom.js";

export const FORMATS = [
  { value: "json", label: "JSON", hint: "everything, to import here again" },
  { value: "markdown", label: "Markdown", hint: "a task list for notes and outliners" },
  { value: "opml", label: "OPML", hint: "for outliners (Workflowy, Dynalist, Logseq)" },
  { value: "csv", label: "CSV", hint: "for spreadsheets" },
  { value: "ics", label: "iCalendar", hint: "a to-do per goal, for calendar apps" },
];

/** Save a Blob as a file through a temporary object URL. */
function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = h("a", { href: url, download: filename, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  // The download has begun once click() returns; the URL is freed a little later all the same.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** A group of radio buttons; returns {wrap, value()}. */
function radios(legend, name, options, checked) {
  const wrap = h(
    "fieldset",
    { class: "choices" },
    h("legend", {}, legend),
    options.map((option) => {
      const id = uid(name);
      return h(
        "div",
        { class: "choice" },
        h("input", { type: "radio", id, name, value: option.value, checked: option.value === checked }),
        h("label", { for: id }, option.label, option.hint ? h("span", { class: "hint" }, ` — ${option.hint}`) : null),
      );
    }),
  );
  return { wrap, value: () => wrap.querySelector("input:checked")?.value };
}

/**
 * Ask for a format and a scope, then download the export. `goal` ({id, name}) offers "this
 * goal and its sub-goals" beside the whole forest, and is chosen first. Resolves to the file
 * name downloaded, or undefined when cancelled.
 */
export function exportDialog(goal = null) {
  const format = radios("Format", "export-format", FORMATS, "json");
  const scopes = [{ value: "forest", label: "All your goals" }];
  if (goal) scopes.push({ value: "goal", label: `${quoted(goal.name)} and its sub-goals` });
  const scope = radios("What", "export-scope", scopes, goal ? "goal" : "forest");
  return openDialog({
    title: goal ? `Export ${quoted(goal.name)}` : "Export your goals",
    body: [format.wrap, scope.wrap],
    submitLabel: "Download",
    onSubmit: async () => {
      const query = new URLSearchParams({ format: format.value() });
      if (goal && scope.value() === "goal") query.set("root", String(goal.id));
      const { blob, filename } = await download(`/export?${query}`);
      saveBlob(blob, filename);
      return filename;
    },
  });
}

// ------------------------------------------------------------------------- paste a list

// A list item as the server reads it (exchange/formats/markdown.py): indentation, a marker
// (-, *, + or 1. / 1)), an optional task box, the text. The s flag: names may hold U+2028.
const ITEM = /^( *)([-*+]|[0-9]{1,9}[.)])(?: +|$)(?:\[([ xX])\](?: +|$))?(.*)$/s;
// CommonMark's backslash escapes: a backslash before ASCII punctuation stands for it.
const ESCAPE = /\\([!-/:-@[-`{-~])/g;
const PREVIEW_MAX = 300;
const CHECK_DELAY_MS = 300;

function expandTabs(line, size = 4) {
  let out = "";
  for (const ch of line) {
    if (ch === "\t") out += " ".repeat(size - (out.length % size));
    else out += ch;
  }
  return out;
}

/**
 * The tree a Markdown task list makes, read as the server reads it (the server's dry run has
 * the last word): {roots: [{name, done, notes, line, children}], count, error: {line, msg} | null}.
 * Text before the first item is left out; lines that are not items are the item's notes.
 */
export function readTaskList(text) {
  const roots = [];
  const stack = []; // open items: {indent, node}, outermost first
  let base = null;
  let last = null;
  let count = 0;
  const lines = text.split(/\r\n?|\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const expanded = line.startsWith("\t") || line.includes(" \t") ? expandTabs(line) : line;
    const item = ITEM.exec(expanded);
    if (!item) {
      if (last && line.trim()) last.notes += 1;
      continue;
    }
    const indent = item[1].length;
    if (base === null) base = indent;
    let popped = false;
    while (stack.length && stack[stack.length - 1].indent > indent) {
      stack.pop();
      popped = true;
    }
    if (stack.length && stack[stack.length - 1].indent === indent) stack.pop();
    else if ((stack.length && popped) || (!stack.length && indent !== base)) {
      return { roots, count, error: { line: i + 1, msg: `unbalanced indentation: ${indent} spaces match no open item's level` } };
    }
    const node = { name: item[4].trim().replace(ESCAPE, "$1"), done: item[3] === "x" || item[3] === "X", notes: 0, line: i + 1, children: [] };
    (stack.length ? stack[stack.length - 1].node.children : roots).push(node);
    stack.push({ indent, node });
    last = node;
    count += 1;
  }
  return { roots, count, error: null };
}

/** The preview: nested lists of the first PREVIEW_MAX goals, built without recursion. */
function previewTree(roots) {
  const top = h("ul", { class: "preview-tree" });
  const stack = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push({ node: roots[i], into: top });
  let shown = 0;
  while (stack.length && shown < PREVIEW_MAX) {
    const { node, into } = stack.pop();
    shown += 1;
    const li = h(
      "li",
      { class: node.done ? "done" : null },
      h("span", { class: "box", "aria-hidden": "true" }, node.done ? "☑" : "☐"),
      " ",
      h("span", { class: "name" }, node.name || "(no name)"),
      node.done ? h("span", { class: "visually-hidden" }, " (done)") : null,
      node.notes ? h("span", { class: "hint" }, ` · ${node.notes === 1 ? "1 line" : `${node.notes} lines`} of notes`) : null,
    );
    into.append(li);
    if (node.children.length) {
      const ul = h("ul");
      li.append(ul);
      for (let c = node.children.length - 1; c >= 0; c--) stack.push({ node: node.children[c], into: ul });
    }
  }
  return { list: top, shown };
}

/** A 422's errors as lines ("Line 3: unbalanced indentation …"). */
function problemLines(error) {
  const errors = Array.isArray(error?.problem?.errors) ? error.problem.errors : [];
  if (!errors.length) return [describeError(error)];
  return errors.slice(0, 10).map((e) => {
    const where = (e.loc || []).filter((part) => part !== "body").join(", ");
    const text = where ? `${where}: ${e.msg}` : e.msg;
    return text[0].toUpperCase() + text.slice(1);
  });
}

/**
 * "Paste a list": a Markdown task list, its tree previewed as it is typed and checked by the
 * server's dry run, then imported at the top level or under a goal. forest: {nodes, label(id)}
 * to choose the place from; `parent`: the goal chosen first. Resolves to {ids, parentId} or
 * undefined when cancelled.
 */
export function pasteListDialog(forest, parent = null) {
  const text = field(
    "Markdown task list",
    { name: "list", rows: 10, spellcheck: "false", placeholder: "- [ ] Move house\n  - [ ] Book the van\n  - [x] Find boxes" },
    { kind: "textarea", hint: "One item a line: - [ ] open, - [x] done; indent to nest. Lines under an item are its description." },
  );
  const placeId = uid("paste-place");
  const place = h("select", { id: placeId, name: "parent" }, h("option", { value: "" }, "Top level"));
  let listed = 0;
  for (const node of forest.nodes.values()) {
    if (listed >= 300 && node.id !== parent?.id) continue;
    listed += 1;
    place.append(h("option", { value: String(node.id), selected: node.id === parent?.id }, forest.label(node.id)));
  }
  const status = h("p", { class: "paste-status", "aria-live": "polite" }, "Paste or type a list to see the goals it makes.");
  const problems = h("ul", { class: "paste-problems", role: "alert" });
  const preview = h("div", { class: "paste-preview", role: "group", "aria-label": "Preview" });
  const parentId = () => (place.value ? Number(place.value) : null);
  const path = (dryRun) => {
    const query = new URLSearchParams();
    if (dryRun) query.set("dry_run", "true");
    if (parentId() !== null) query.set("parent_id", String(parentId()));
    const q = query.toString();
    return `/goals/import${q ? `?${q}` : ""}`;
  };
  const raw = () => ({ text: text.input.value, type: "text/markdown; charset=utf-8" });

  let ticket = 0;
  let timer = null;
  let serverOk = false;
  const check = async () => {
    const mine = ++ticket;
    serverOk = false;
    problems.replaceChildren();
    const read = readTaskList(text.input.value);
    const { list, shown } = previewTree(read.roots);
    const more = read.count > shown ? h("p", { class: "hint" }, `… and ${read.count - shown} more.`) : null;
    preview.replaceChildren(...[list, more].filter(Boolean));
    if (!read.count) {
      status.textContent = text.input.value.trim() ? "No list items yet: start a line with - [ ] or -." : "Paste or type a list to see the goals it makes.";
      return;
    }
    status.textContent = "Checking…";
    try {
      const { data } = await api("POST", path(true), { raw: raw() });
      if (mine !== ticket) return;
      const goals = data.changes.filter((c) => c.field === "name").length;
      serverOk = true;
      status.textContent = `Ready: ${goals === 1 ? "1 goal" : `${goals} goals`} will be created.`;
    } catch (error) {
      if (mine !== ticket) return;
      status.textContent = "This list cannot be imported yet:";
      problems.replaceChildren(...problemLines(error).map((line) => h("li", {}, line)));
    }
  };
  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(check, CHECK_DELAY_MS);
  };
  text.input.addEventListener("input", later);
  place.addEventListener("change", later);

  return openDialog({
    title: "Paste a list",
    wide: true,
    body: [
      text.wrap,
      h("div", { class: "field" }, h("label", { for: placeId }, "Put the goals under"), place),
      status,
      problems,
      preview,
    ],
    submitLabel: "Import",
    onSubmit: async () => {
      clearTimeout(timer);
      if (!readTaskList(text.input.value).count) throw "Paste a list first: one goal a line, starting with - [ ] or -.";
      if (!serverOk) await check();
      if (!serverOk) throw "Nothing was imported: correct the lines listed above first.";
      const { data } = await api("POST", path(false), { raw: raw() });
      return { ids: data.ids, parentId: parentId() };
    },
  });
}
