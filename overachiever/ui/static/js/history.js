// The History page: every operation on the person's goals, newest first, each with an Undo.

import { who } from "./activity.js";
import { api } from "./api.js";
import { h, quoted, timeAgo } from "./dom.js";
import { showError } from "./notify.js";
import { undoOperation } from "./undo.js";

const PAGE = 25;
const NAMES_SHOWN = 3;
// Operations whose effects cannot be put back, and why (the Undo button's tooltip).
const NOT_UNDOABLE = {
  purge: "A deletion for good cannot be undone.",
  baseline: "This only records the goals that existed before history was kept; there is nothing to undo.",
};

/**
 * Names of goals by id, read with two requests whatever the page shows: today's forest
 * (GET /goals/tree?format=flat) and the trash (whose top goals have names). Operations name
 * goals by id only; a goal in neither (purged, or inside a trashed subtree) is "goal #id".
 */
async function readNames() {
  const names = new Map();
  const [tree, trash] = await Promise.all([api("GET", "/goals/tree?format=flat"), api("GET", "/trash")]);
  for (const item of tree.data.items) names.set(item.id, item.name);
  for (const item of trash.data.items) names.set(item.id, item.name);
  return names;
}

/** Which goals, in words: “A”, “B” and “C”, or “A”, “B”, “C” and 4 more. */
function goalsInWords(op, names) {
  const ids = op.goal_ids.slice(0, NAMES_SHOWN);
  const shown = ids.map((id) => (names.has(id) ? quoted(names.get(id)) : `goal #${id}`));
  const rest = op.goals_count - shown.length;
  if (rest > 0) return `${shown.join(", ")} and ${rest} more`;
  if (shown.length <= 1) return shown.join("");
  return `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}`;
}

/** What an operation did, in words ("moved “Paint” to the trash"); byId finds other operations. */
export function operationWords(op, names, byId) {
  const goals = goalsInWords(op, names);
  const count = op.goals_count === 1 ? "1 goal" : `${op.goals_count} goals`;
  switch (op.kind) {
    case "create":
      return `added ${goals}`;
    case "update":
      return `changed ${goals}`;
    case "import":
      return `imported ${count}: ${goals}`;
    case "trash":
      return `moved ${goals} to the trash${op.goals_count > 1 ? ` (${count})` : ""}`;
    case "restore":
      return `restored ${goals} from the trash${op.goals_count > 1 ? ` (${count})` : ""}`;
    case "purge":
      return `deleted ${count} forever`;
    case "baseline":
      return `recorded the ${count} that existed before history was kept`;
    case "undo": {
      const target = byId.get(op.undoes);
      const verb = target?.kind === "undo" ? "redid" : "undid";
      const which = target?.kind === "undo" ? `change #${target.undoes}` : `change #${op.undoes}`;
      return `${verb} ${which} (${goals})`;
    }
    default:
      return `${op.kind}: ${goals}`;
  }
}

/** Render the History page into `main`. */
export async function renderHistory(main) {
  const list = h("ol", { class: "history-list", "aria-label": "Changes, newest first" });
  const summary = h("p", { class: "summary", "aria-live": "polite" }, "Loading the history…");
  const more = h("button", { type: "button", class: "button ghost", hidden: true }, "More");
  const section = h(
    "section",
    { class: "history", "aria-labelledby": "history-title", "aria-busy": "true" },
    h(
      "div",
      { class: "view-head" },
      h("h1", { id: "history-title" }, "History"),
      h("p", { class: "summary" }, "Every change to your goals, newest first. Undo puts back what a change did; undoing an undo redoes it."),
    ),
    list,
    summary,
    more,
  );
  main.replaceChildren(section);

  let items = [];
  let total = 0;
  let names = new Map();

  function line(op, byId) {
    const tags = [];
    if (op.undoes) tags.push(h("span", { class: "badge" }, `undo of #${op.undoes}`));
    if (op.undone_by) tags.push(h("span", { class: "badge muted" }, `undone by #${op.undone_by}`));
    const words = operationWords(op, names, byId);
    let reason = NOT_UNDOABLE[op.kind] || null;
    if (!reason && op.undone_by) reason = `Already undone by change #${op.undone_by}; undo that one to redo it.`;
    const button = h(
      "button",
      {
        type: "button",
        class: "button small",
        "aria-label": `Undo change #${op.id}`,
        title: reason || (op.kind === "undo" ? "Undo this undo: do the change again" : "Put back what this change did"),
        disabled: Boolean(reason),
        onclick: () => undo(op, words),
      },
      "Undo",
    );
    return h(
      "li",
      { class: "operation", dataset: { id: String(op.id) } },
      h("span", { class: "op-when" }, timeAgo(op.at)),
      h("span", { class: "op-what" }, h("span", { class: "op-id" }, `#${op.id}`), " ", who(op.actor), " ", words, tags),
      button,
    );
  }

  function render() {
    const byId = new Map(items.map((op) => [op.id, op]));
    list.replaceChildren(...items.map((op) => line(op, byId)));
    summary.textContent = total ? `${items.length} of ${total} changes shown.` : "No changes yet: your goals' history starts with your first change.";
    more.hidden = items.length >= total;
    section.setAttribute("aria-busy", "false");
  }

  /** Read `count` operations from `offset`, and the goals' names (3 requests in all). */
  async function read(offset, count) {
    const [page, known] = await Promise.all([api("GET", `/operations?offset=${offset}&limit=${count}`), readNames()]);
    names = known;
    total = page.data.total;
    return page.data.items;
  }

  /** Read the list again from the top, as many operations as were shown (at least a page). */
  async function refresh() {
    section.setAttribute("aria-busy", "true");
    try {
      items = await read(0, Math.min(500, Math.max(PAGE, items.length)));
    } catch (error) {
      showError(error);
    }
    render();
  }

  async function undo(op, words) {
    const message = `change #${op.id} (${who(op.actor)} ${words}).`;
    await undoOperation(op, message, refresh);
  }

  more.addEventListener("click", async () => {
    more.disabled = true;
    const before = items.length;
    try {
      const page = await read(items.length, PAGE);
      // A change made meanwhile shifts the pages: skip what is already shown.
      const seen = new Set(items.map((op) => op.id));
      items = items.concat(page.filter((op) => !seen.has(op.id)));
    } catch (error) {
      showError(error);
    }
    more.disabled = false;
    render();
    // Focus goes to the first newly shown change (its Undo), or stays on "More".
    list.children[before]?.querySelector("button:not([disabled])")?.focus();
  });

  try {
    items = await read(0, PAGE);
  } catch (error) {
    summary.textContent = "";
    section.setAttribute("aria-busy", "false");
    throw error;
  }
  render();
}
