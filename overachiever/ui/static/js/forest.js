// The goal forest: read once as a flat pre-order list, rendered lazily (only expanded goals have
// their children in the page, and long sibling lists come 200 at a time), changed through the API.
// The same view, read-only, shows the forest as it was at an instant ("as it was on …"), and
// shows a goal someone shared with the person: with the normal controls inside it for an
// editor, read-only for a viewer.
// A change that may set off completion rules (done, reopen, move, delete) is first tried as a
// dry run, and asked about when it would also change other goals.

import { api, describeError } from "./api.js";
import { openBurnup } from "./burnup.js";
import { editGoalDialog, effectsDialog, goalDetailsDialog, moveDialog, newSubGoalDialog } from "./dialogs.js";
import { formatDate, formatExact, h, percent, quoted } from "./dom.js";
import { exportDialog, pasteListDialog } from "./exchange.js";
import { showError, showInfo } from "./notify.js";
import { effectsSentence, planned, ruleBadge, ruleLabel } from "./rules.js";
import { session } from "./session.js";
import { shareDialog } from "./share.js";
import { lastOperation, noticeWithUndo } from "./undo.js";

// The Done box of an auto goal: the rule decides, not the person.
const AUTO_DONE = "Completes itself when all its sub-goals are done (rule: Auto)";
// The Done box of a goal shared with the person as a viewer.
const VIEW_ONLY = "Shared with you as a viewer: you can look, not change";

const PAGE = 200;
const SEARCH_PAGE = 500;
const SEARCH_MAX = 5000;

// What the person chose stays while they move between pages (per signed-in user).
const memory = { userId: null, expanded: new Set(), status: "all", query: "" };

function remembered() {
  const userId = session.user?.id ?? null;
  if (memory.userId !== userId) {
    Object.assign(memory, { userId, expanded: new Set(), status: "all", query: "" });
  }
  return memory;
}

/** Render the goals page into `main`. */
export async function renderGoals(main) {
  const view = new Forest(main);
  await view.start();
}

/**
 * Render the forest as it was at `asOf` (an ISO instant) into `holder`, read-only: no edit
 * controls, no dragging; `backLink` leads back to the live forest. Resolves to false when
 * the forest could not be read (the error is shown as a notice).
 */
export async function renderForestAsOf(holder, asOf, backLink) {
  const view = new Forest(holder, { asOf, backLink });
  return view.start();
}

/**
 * Render the subtree of a goal shared with the person into `holder`, under `head` (the page's
 * heading, the owner and the role): `share` is an item of GET /shared. An editor gets the
 * normal controls inside it (the shared goal itself can be changed but not moved or deleted),
 * a viewer a read-only tree. `onLost()` runs when the goal can no longer be read (the share was
 * removed, or the goal deleted); `onRefused()` after a change refused as not allowed (403: the
 * role changed meanwhile), to read the role again. Resolves to false when it could not be read.
 */
export async function renderSharedGoal(holder, share, head, { onLost, onRefused }) {
  const view = new Forest(holder, { share, head, onLost, onRefused });
  return view.start();
}

class Forest {
  constructor(main, { asOf = null, backLink = null, share = null, head = null, onLost = null, onRefused = null } = {}) {
    this.asOf = asOf;
    this.backLink = backLink;
    // A goal shared with the person: only its subtree is read, and what they may do follows the role.
    this.share = share;
    this.rootId = share ? share.goal.id : null;
    this.onLost = onLost;
    this.onRefused = onRefused;
    this.canEdit = !asOf && (!share || share.role === "editor");
    // Within a shared goal nothing may go to the top level (out of the share).
    this.topLevel = !share;
    this.state = remembered();
    this.nodes = new Map();
    this.roots = [];
    this.revealed = new Map();
    this.hits = null;
    this.shown = null;
    this.dragId = null;
    this.searchSeq = 0;
    this.skew = 0;
    this.goalName = (id) => this.nodes.get(id)?.name ?? null;
    if (asOf) this.buildReadOnly(main);
    else if (share) this.buildShared(main, head);
    else this.build(main);
  }

  /** The status filter (all, open, done): the same choice on the live and the past forest. */
  statusFilter() {
    const statuses = ["all", "open", "done"].map((value) =>
      h(
        "label",
        { class: "segment" },
        h("input", {
          type: "radio",
          name: "status",
          value,
          checked: this.state.status === value,
          onchange: () => this.setStatus(value),
        }),
        h("span", {}, { all: "All", open: "Open", done: "Done" }[value]),
      ),
    );
    return h("fieldset", { class: "segmented" }, h("legend", {}, "Show"), statuses);
  }

  /** The read-only forest of the past: a banner saying when, the tree, and no edit controls. */
  buildReadOnly(holder) {
    this.summary = h("p", { class: "summary", "aria-live": "polite" });
    this.tree = h("ul", { class: "tree read-only", id: "goal-tree", "aria-label": "Goals as they were" });
    this.tree.addEventListener("click", (e) => this.onClick(e));
    this.empty = h("p", { class: "empty", hidden: true });
    const toolbar = h(
      "div",
      { class: "toolbar", "aria-label": "Filter goals" },
      this.statusFilter(),
      h("button", { type: "button", class: "button ghost", onclick: () => this.collapseAll() }, "Collapse all"),
    );
    this.section = h(
      "section",
      { class: "goals as-of", "aria-labelledby": "as-of-banner", "aria-busy": "true" },
      h(
        "div",
        { class: "as-of-banner", role: "status" },
        h("p", { id: "as-of-banner" }, "As it was on ", h("strong", {}, formatExact(this.asOf))),
        h("p", { class: "hint" }, "A read-only view of the past: nothing here can be changed."),
        this.backLink,
      ),
      this.summary,
      toolbar,
      this.tree,
      this.empty,
    );
    holder.replaceChildren(this.section);
  }

  /**
   * A goal shared with the person: `head` on top, then the filter and the subtree. No new
   * top-level goal, no search (search asks about one's own goals), no "top level" drop strip.
   */
  buildShared(holder, head) {
    this.summary = h("p", { class: "summary", "aria-live": "polite" });
    const editor = this.canEdit;
    this.tree = h("ul", { class: editor ? "tree" : "tree view-only", id: "goal-tree", "aria-label": `Goals shared by ${this.share.owner.name}` });
    this.tree.addEventListener("click", (e) => this.onClick(e));
    if (editor) {
      this.tree.addEventListener("change", (e) => this.onChange(e));
      this.tree.addEventListener("dragstart", (e) => this.onDragStart(e));
      this.tree.addEventListener("dragover", (e) => this.onDragOver(e));
      this.tree.addEventListener("dragleave", (e) => this.onDragLeave(e));
      this.tree.addEventListener("drop", (e) => this.onDrop(e));
      this.tree.addEventListener("dragend", () => this.endDrag());
    }
    this.empty = h("p", { class: "empty", hidden: true });
    const toolbar = h(
      "div",
      { class: "toolbar", "aria-label": "Filter goals" },
      this.statusFilter(),
      h("button", { type: "button", class: "button ghost", onclick: () => this.collapseAll() }, "Collapse all"),
    );
    this.section = h(
      "section",
      { class: "goals shared-goal", "aria-labelledby": "goals-title", "aria-busy": "true" },
      head,
      this.summary,
      toolbar,
      this.tree,
      this.empty,
    );
    holder.replaceChildren(this.section);
  }

  build(main) {
    this.summary = h("p", { class: "summary", "aria-live": "polite" });
    this.addInput = h("input", {
      id: "new-goal",
      name: "name",
      required: true,
      maxlength: 200,
      autocomplete: "off",
      placeholder: "e.g. Learn to juggle",
    });
    this.addError = h("p", { class: "form-error", role: "alert", id: "new-goal-error" });
    const addForm = h(
      "form",
      { class: "add-goal", onsubmit: (e) => this.addTopLevel(e) },
      h("label", { for: "new-goal" }, "New goal"),
      h("div", { class: "inline" }, this.addInput, h("button", { type: "submit", class: "button primary" }, "Add goal")),
      this.addError,
    );
    this.search = h("input", {
      id: "goal-search",
      type: "search",
      maxlength: 200,
      autocomplete: "off",
      placeholder: "Name or description",
      value: this.state.query,
    });
    this.search.addEventListener("input", () => this.onSearchInput());
    const toolbar = h(
      "div",
      { class: "toolbar", role: "search", "aria-label": "Filter goals" },
      h("div", { class: "field" }, h("label", { for: "goal-search" }, "Search"), this.search),
      this.statusFilter(),
      h("button", { type: "button", class: "button ghost", onclick: () => this.collapseAll() }, "Collapse all"),
      h(
        "div",
        { class: "toolbar-end" },
        h("button", { type: "button", class: "button", onclick: () => this.pasteList() }, "Paste a list…"),
        h("button", { type: "button", class: "button", onclick: () => this.exportAll() }, "Export…"),
      ),
    );
    this.dropRoot = h("div", { class: "drop-root", hidden: true }, "Drop here to move the goal to the top level");
    this.dropRoot.addEventListener("dragover", (e) => {
      if (this.dragId !== null && this.nodes.get(this.dragId)?.parent_id !== null) {
        e.preventDefault();
        e.dataTransfer.dropEffect = "move";
        this.dropRoot.classList.add("over");
      }
    });
    this.dropRoot.addEventListener("dragleave", () => this.dropRoot.classList.remove("over"));
    this.dropRoot.addEventListener("drop", (e) => {
      e.preventDefault();
      const id = this.dragId;
      this.endDrag();
      if (id !== null) this.move(id, null);
    });
    this.tree = h("ul", { class: "tree", id: "goal-tree", "aria-label": "Goals" });
    this.tree.addEventListener("click", (e) => this.onClick(e));
    this.tree.addEventListener("change", (e) => this.onChange(e));
    this.tree.addEventListener("dragstart", (e) => this.onDragStart(e));
    this.tree.addEventListener("dragover", (e) => this.onDragOver(e));
    this.tree.addEventListener("dragleave", (e) => this.onDragLeave(e));
    this.tree.addEventListener("drop", (e) => this.onDrop(e));
    this.tree.addEventListener("dragend", () => this.endDrag());
    this.empty = h("p", { class: "empty", hidden: true });
    this.section = h(
      "section",
      { class: "goals", "aria-labelledby": "goals-title", "aria-busy": "true" },
      h("div", { class: "view-head" }, h("h1", { id: "goals-title" }, "Goals"), this.summary),
      addForm,
      toolbar,
      this.dropRoot,
      this.tree,
      this.empty,
    );
    main.replaceChildren(this.section);
  }

  /** Read and render the forest; resolves to false when it could not be read (shown as a notice). */
  async start() {
    this.summary.textContent = this.share ? "Loading the shared goals…" : "Loading your goals…";
    try {
      await this.load();
      // Search asks the API about today's goals: the past forest is not searched.
      if (this.state.query && !this.asOf && !this.share) await this.runSearch(this.state.query);
    } catch (error) {
      this.summary.textContent = "";
      this.section.setAttribute("aria-busy", "false");
      if (this.lost(error) && this.onLost) this.onLost();
      else this.fail(error);
      return false;
    }
    this.render();
    return true;
  }

  /** Show an error in words, naming goals the API refers to by id. */
  fail(error) {
    showError(describeError(error, this.goalName));
  }

  /** Whether an error says the shared goal can no longer be read at all (share removed). */
  lost(error) {
    return Boolean(this.share) && error?.status === 404;
  }

  // ---------------------------------------------------------------- data

  /** Read the whole forest (flat pre-order: a parent always comes before its children). */
  async load() {
    const asOf = this.asOf ? `&as_of=${encodeURIComponent(this.asOf)}` : "";
    const path = this.share ? `/goals/${this.rootId}/tree?format=flat` : `/goals/tree?format=flat${asOf}`;
    const { data, headers } = await api("GET", path);
    const served = Date.parse(headers.get("Date") || "");
    // A browser clock far behind the server's would complete goals before they started.
    this.skew = Number.isFinite(served) && served - Date.now() > 2000 ? served - Date.now() + 1000 : 0;
    const nodes = new Map();
    const roots = [];
    for (const item of data.items) {
      const node = { ...item, children: [] };
      nodes.set(node.id, node);
      // A shared goal is the root of what is read, though it has a parent in its owner's forest.
      if (node.parent_id === null || node.id === this.rootId) roots.push(node.id);
      else nodes.get(node.parent_id)?.children.push(node.id);
    }
    this.nodes = nodes;
    this.roots = roots;
  }

  /** Ids of a goal and everything under it. */
  subtreeIds(id) {
    const ids = new Set();
    const stack = [id];
    while (stack.length) {
      const current = stack.pop();
      ids.add(current);
      for (const child of this.nodes.get(current)?.children || []) stack.push(child);
    }
    return ids;
  }

  /** Whether `id` is `ancestor` or lies below it. */
  isInside(id, ancestor) {
    for (let cur = id; cur !== null && cur !== undefined; cur = this.nodes.get(cur)?.parent_id) {
      if (cur === ancestor) return true;
    }
    return false;
  }

  /** A goal's name with up to two ancestors before it ("… / Parent / Goal"). */
  label(id) {
    const parts = [];
    let cur = this.nodes.get(id);
    while (cur && parts.length < 3) {
      parts.unshift(cur.name);
      cur = cur.parent_id === null ? null : this.nodes.get(cur.parent_id);
    }
    if (cur) parts.unshift("…");
    return parts.join(" / ");
  }

  /** The goals a filter keeps (matches and their ancestors), or null when nothing is filtered. */
  computeShown() {
    const status = this.state.status;
    if (status === "all" && !this.hits) {
      this.shown = null;
      return;
    }
    const shown = new Set();
    for (const node of this.nodes.values()) {
      const statusOk = status === "all" || (status === "done") === (node.end !== null);
      if (!statusOk || (this.hits && !this.hits.has(node.id))) continue;
      for (let cur = node; cur && !shown.has(cur.id); cur = this.nodes.get(cur.parent_id)) {
        shown.add(cur.id);
      }
    }
    this.shown = shown;
  }

  visible(ids) {
    return this.shown ? ids.filter((id) => this.shown.has(id)) : ids;
  }

  // ---------------------------------------------------------------- rendering

  render() {
    this.section.setAttribute("aria-busy", "false");
    // The heading of a shared goal follows a rename (by the person, or read again after the owner's).
    const root = this.share ? this.nodes.get(this.rootId) : null;
    const title = root ? this.section.querySelector("#goals-title") : null;
    if (title && title.textContent !== root.name) title.textContent = root.name;
    const focus = this.focusKey();
    this.computeShown();
    const lists = [{ ul: this.tree, key: "root", ids: this.roots }];
    this.tree.replaceChildren();
    // Iterative, so a deeply expanded chain needs no recursion.
    while (lists.length) {
      const { ul, key, ids } = lists.pop();
      const children = this.fillList(ul, key, ids);
      lists.push(...children);
    }
    this.renderSummary();
    this.restoreFocus(focus);
  }

  /**
   * Put a list's goals into `ul`, from index `start` up to as many as are revealed (then a
   * "Show more" button); returns the child lists of expanded goals, still to be filled.
   */
  fillList(ul, key, ids, start = 0) {
    const visible = this.visible(ids);
    const count = Math.min(visible.length, this.revealed.get(key) || PAGE);
    const fragment = document.createDocumentFragment();
    const pending = [];
    for (let i = start; i < count; i++) {
      const node = this.nodes.get(visible[i]);
      const { li, childList } = this.renderItem(node);
      fragment.append(li);
      if (childList) pending.push({ ul: childList, key: node.id, ids: node.children });
    }
    if (visible.length > count) {
      const more = Math.min(PAGE, visible.length - count);
      fragment.append(
        h(
          "li",
          { class: "more" },
          h(
            "button",
            { type: "button", class: "button ghost small", dataset: { action: "more", list: String(key) } },
            `Show ${more} more (${visible.length - count} not shown)`,
          ),
        ),
      );
    }
    ul.append(fragment);
    return pending;
  }

  renderItem(node) {
    const name = node.name;
    const id = node.id;
    const kids = this.visible(node.children);
    const open = kids.length > 0 && this.state.expanded.has(id);
    const done = node.end !== null;
    const auto = node.completion === "auto";
    const pct = percent(node.progress);
    const overdue = !done && node.due && Date.parse(node.due) < Date.now();
    const doneKids = node.children.reduce((n, c) => n + (this.nodes.get(c).end !== null ? 1 : 0), 0);
    const meta = [];
    if (node.children.length) {
      const n = node.children.length;
      meta.push(h("span", { class: "count" }, `${n} sub-goal${n === 1 ? "" : "s"}, ${doneKids} done`));
    }
    if (node.due) {
      meta.push(
        h("span", { class: overdue ? "due overdue" : "due" }, `${overdue ? "Overdue since" : "Due"} ${formatDate(node.due)}`),
      );
    }
    const classes = ["goal-row"];
    if (done) classes.push("done");
    if (this.hits?.has(id)) classes.push("match");
    const readOnly = Boolean(this.asOf);
    if (readOnly && done) meta.unshift(h("span", { class: "badge done-badge" }, "Done"));
    // The shared goal itself stays where its owner put it: an editor may not move or delete it.
    const sharedRoot = id === this.rootId;
    const movable = this.canEdit && !sharedRoot;
    const row = h(
      "div",
      { class: classes.join(" "), draggable: movable ? "true" : null, dataset: { id: String(id) } },
      kids.length
        ? h("button", {
            type: "button",
            class: "toggle",
            "aria-expanded": String(open),
            "aria-controls": open ? `children-${id}` : null,
            "aria-label": `Sub-goals of ${name}`,
            title: open ? "Collapse" : "Expand",
            dataset: { action: "toggle" },
          })
        : h("span", { class: "toggle-spacer", "aria-hidden": "true" }),
      readOnly
        ? null
        : h("input", {
            type: "checkbox",
            class: "done-box",
            checked: done,
            disabled: auto || !this.canEdit,
            "aria-label": `Done: ${name}`,
            title: !this.canEdit ? VIEW_ONLY : auto ? AUTO_DONE : done ? "Reopen" : "Mark done",
            dataset: { action: "done" },
          }),
      h(
        "div",
        { class: "goal-main" },
        h("span", { class: "goal-title" }, h("span", { class: "goal-name" }, name), ruleBadge(node.completion)),
        meta.length ? h("span", { class: "meta" }, meta) : null,
      ),
      h(
        "div",
        { class: "goal-progress" },
        h("progress", { max: 100, value: pct, "aria-label": `Progress of ${name}` }, `${pct}%`),
        h("span", { class: "pct", "aria-hidden": "true" }, `${pct}%`),
      ),
      readOnly ? null : h("div", { class: "goal-actions" }, this.actions(name, movable)),
    );
    const li = h("li", { class: "goal", dataset: { id: String(id) } }, row);
    let childList = null;
    if (open) {
      childList = h("ul", { class: "tree-children", id: `children-${id}` });
      li.append(childList);
    }
    return { li, childList };
  }

  /** The buttons of a row: all of them for one's own goals, fewer in a goal shared with one. */
  actions(name, movable) {
    if (!this.canEdit) {
      return [
        this.action("details", "Details", `Details of ${name}`),
        this.action("burnup", "Burn-up", `Burn-up of ${name}`),
        this.action("export", "Export…", `Export ${name}`),
      ];
    }
    return [
      this.action("add", "+ Sub-goal", `Add a sub-goal to ${name}`),
      this.action("edit", "Edit", `Edit ${name}`),
      this.action("burnup", "Burn-up", `Burn-up of ${name}`),
      // Only the owner shares a goal.
      this.share ? null : this.action("share", "Share…", `Share ${name}`),
      movable ? this.action("move", "Move to…", `Move ${name} to…`) : null,
      this.action("export", "Export…", `Export ${name}`),
      movable ? this.action("delete", "Delete", `Delete ${name}`) : null,
    ];
  }

  action(action, text, label) {
    return h("button", { type: "button", class: "button small ghost", "aria-label": label, dataset: { action } }, text);
  }

  renderSummary() {
    const total = this.nodes.size;
    let done = 0;
    for (const node of this.nodes.values()) if (node.end !== null) done += 1;
    let text = total ? `${total} goal${total === 1 ? "" : "s"}, ${done} done.` : "";
    if (this.hits) {
      const n = this.hits.size;
      text += ` ${n} ${n === 1 ? "matches" : "match"} ${quoted(this.state.query)}.`;
    }
    this.summary.textContent = text.trim();
    const nothing = this.visible(this.roots).length === 0;
    this.empty.hidden = !nothing;
    if (!total) this.empty.textContent = this.asOf ? "There were no goals then." : "No goals yet. Add your first goal above.";
    else if (nothing) this.empty.textContent = "No goals match the filter.";
  }

  /** Which control has focus, so it can get it back after a re-render. */
  focusKey() {
    const el = document.activeElement;
    if (!el || !this.tree.contains(el)) return null;
    const row = el.closest("[data-id]");
    return row ? { id: Number(row.dataset.id), action: el.dataset.action } : null;
  }

  restoreFocus(key) {
    if (!key) return;
    this.focusGoal(key.id, key.action);
  }

  focusGoal(id, action = "edit") {
    const row = this.tree.querySelector(`.goal-row[data-id="${id}"]`);
    const target = row?.querySelector(`[data-action="${action || "edit"}"]`) || row?.querySelector("[data-action]");
    if (target) target.focus();
  }

  /** Expand every ancestor of `id`, so it is in the page. */
  reveal(id) {
    for (let cur = this.nodes.get(id)?.parent_id; cur !== null && cur !== undefined; cur = this.nodes.get(cur)?.parent_id) {
      this.state.expanded.add(cur);
    }
  }

  // ---------------------------------------------------------------- events

  onClick(event) {
    const button = event.target.closest("button[data-action]");
    if (!button) return;
    const action = button.dataset.action;
    if (action === "more") {
      const key = button.dataset.list === "root" ? "root" : Number(button.dataset.list);
      const ul = button.closest("ul");
      const ids = key === "root" ? this.roots : this.nodes.get(key).children;
      const shownBefore = this.revealed.get(key) || PAGE;
      this.revealed.set(key, shownBefore + PAGE);
      // Re-fill just this list; focus goes to the first newly shown goal.
      const firstNew = this.visible(ids)[shownBefore];
      button.closest("li").remove();
      const lists = this.fillList(ul, key, ids, shownBefore);
      while (lists.length) {
        const { ul: child, key: k, ids: childIds } = lists.pop();
        lists.push(...this.fillList(child, k, childIds));
      }
      if (firstNew !== undefined) this.focusGoal(firstNew);
      return;
    }
    const id = Number(button.closest("[data-id]").dataset.id);
    const node = this.nodes.get(id);
    if (!node) return;
    if (action === "toggle") this.toggle(node, button);
    else if (action === "add") this.addSubGoal(node);
    else if (action === "edit") this.edit(node);
    else if (action === "burnup") openBurnup(node);
    else if (action === "details") this.details(node);
    else if (action === "share") shareDialog(node);
    else if (action === "move") this.pickMove(node);
    else if (action === "export") this.exportGoal(node);
    else if (action === "delete") this.trash(node);
  }

  onChange(event) {
    const box = event.target;
    if (box.dataset.action !== "done") return;
    const id = Number(box.closest("[data-id]").dataset.id);
    this.setDone(id, box.checked, box);
  }

  toggle(node, button) {
    const li = button.closest("li");
    const open = button.getAttribute("aria-expanded") === "true";
    if (open) {
      this.state.expanded.delete(node.id);
      li.querySelector(":scope > ul")?.remove();
      button.setAttribute("aria-expanded", "false");
      button.removeAttribute("aria-controls");
      button.title = "Expand";
      return;
    }
    this.state.expanded.add(node.id);
    const ul = h("ul", { class: "tree-children", id: `children-${node.id}` });
    li.append(ul);
    const lists = this.fillList(ul, node.id, node.children);
    while (lists.length) {
      const { ul: child, key, ids } = lists.pop();
      lists.push(...this.fillList(child, key, ids));
    }
    button.setAttribute("aria-expanded", "true");
    button.setAttribute("aria-controls", ul.id);
    button.title = "Collapse";
  }

  collapseAll() {
    this.state.expanded.clear();
    this.revealed.clear();
    this.render();
  }

  setStatus(value) {
    this.state.status = value;
    this.render();
  }

  onSearchInput() {
    clearTimeout(this.searchTimer);
    this.searchTimer = setTimeout(async () => {
      try {
        await this.runSearch(this.search.value.trim());
      } catch (error) {
        this.fail(error);
        return;
      }
      this.render();
    }, 250);
  }

  /** Ask the API which goals have the text in their name or description. */
  async runSearch(text) {
    const seq = ++this.searchSeq;
    this.state.query = text;
    if (!text) {
      this.hits = null;
      return;
    }
    const hits = new Set();
    for (let offset = 0; offset < SEARCH_MAX; offset += SEARCH_PAGE) {
      const q = encodeURIComponent(text);
      const { data } = await api("GET", `/goals?q=${q}&limit=${SEARCH_PAGE}&offset=${offset}`);
      if (seq !== this.searchSeq) return;
      for (const item of data.items) hits.add(item.id);
      if (offset + SEARCH_PAGE >= data.total) break;
    }
    this.hits = hits;
    if (hits.size <= PAGE) for (const id of hits) this.reveal(id);
  }

  // ---------------------------------------------------------------- changes

  /** Run a change, then re-read the forest and render it; errors are shown in words. */
  async change(work, { focus = null, reveal = null } = {}) {
    this.section.setAttribute("aria-busy", "true");
    let ok = true;
    let refused = false;
    try {
      await work();
    } catch (error) {
      ok = false;
      // A shared goal that is gone altogether is told once, below, rather than as this change's error.
      if (!this.lost(error)) this.fail(error);
      refused = Boolean(this.share) && error?.status === 403;
    }
    try {
      await this.load();
      // A change can make a goal match the search, or stop matching it.
      if (this.state.query && !this.share) await this.runSearch(this.state.query);
    } catch (error) {
      this.section.setAttribute("aria-busy", "false");
      if (this.lost(error) && this.onLost) this.onLost();
      else this.fail(error);
      return false;
    }
    // Not allowed in a goal shared with one: the role may have changed; the page reads it again.
    if (refused && this.onRefused) {
      this.onRefused();
      return false;
    }
    if (ok && reveal !== null) this.reveal(reveal);
    this.render();
    if (focus) this.focusGoal(focus.id, focus.action);
    return ok;
  }

  async addTopLevel(event) {
    event.preventDefault();
    const name = this.addInput.value;
    this.addError.textContent = "";
    this.addInput.removeAttribute("aria-invalid");
    let created = null;
    try {
      ({ data: created } = await api("POST", "/goals", { body: { name } }));
    } catch (error) {
      this.addError.textContent = describeError(error, this.goalName);
      this.addInput.setAttribute("aria-invalid", "true");
      this.addInput.setAttribute("aria-describedby", this.addError.id);
      this.addInput.focus();
      return;
    }
    this.addInput.value = "";
    const op = await this.lastOp(created.id);
    await this.change(async () => {});
    this.offerUndo(`Added ${quoted(created.name)}.`, op);
    this.addInput.focus();
  }

  /**
   * Tell what was just done, with an Undo of operation `op` (when known); after an undo or a
   * redo the forest is read again, with the goal `focusId` in view.
   */
  offerUndo(message, op, focusId = null) {
    const refresh = () =>
      focusId === null ? this.change(async () => {}) : this.change(async () => {}, { focus: { id: focusId }, reveal: focusId });
    noticeWithUndo(message, op, refresh);
  }

  /**
   * The operation a change just made, for its Undo. Within a goal shared with the person there
   * is none: the owner's operations are not theirs to read or undo, so no Undo is offered.
   */
  async lastOp(goalId) {
    return this.share ? null : lastOperation(goalId);
  }

  /** A viewer's look at a goal: its details and Activity, nothing to change. */
  async details(node) {
    try {
      await goalDetailsDialog(node.id, this.goalName);
    } catch (error) {
      if (this.lost(error)) await this.change(async () => {});
      else this.fail(error);
    }
  }

  async exportAll() {
    const filename = await exportDialog();
    if (filename) showInfo(`Downloaded ${filename}.`);
  }

  async exportGoal(node) {
    const filename = await exportDialog({ id: node.id, name: node.name });
    if (filename) showInfo(`Downloaded ${filename}.`);
  }

  /** "Paste a list": import a Markdown task list, at the top level or under a goal. */
  async pasteList(parent = null) {
    const done = await pasteListDialog(this, parent);
    if (!done || !done.ids.length) return;
    const first = done.ids[0];
    const op = await lastOperation(first);
    if (done.parentId !== null) this.state.expanded.add(done.parentId);
    await this.change(async () => {}, { focus: { id: first }, reveal: first });
    const n = done.ids.length;
    const where = done.parentId !== null ? ` under ${quoted(this.goalName(done.parentId) ?? "the goal")}` : "";
    this.offerUndo(`Imported ${n === 1 ? "1 goal" : `${n} goals`}${where}.`, op, done.parentId);
  }

  async addSubGoal(parent) {
    const created = await newSubGoalDialog(parent, this.goalName);
    if (!created) return;
    const op = await this.lastOp(created.id);
    this.state.expanded.add(parent.id);
    await this.change(async () => {}, { focus: { id: created.id, action: "add" }, reveal: created.id });
    this.offerUndo(`Added ${quoted(created.name)} under ${quoted(parent.name)}.`, op, parent.id);
  }

  async edit(node) {
    let saved;
    try {
      saved = await editGoalDialog(node.id, this.goalName);
    } catch (error) {
      if (!this.lost(error)) this.fail(error);
      await this.change(async () => {});
      return;
    }
    if (!saved) return;
    // A save without changes sent nothing, so there is no operation to undo.
    const op = saved.changed ? await this.lastOp(node.id) : null;
    await this.change(async () => {}, { focus: { id: node.id, action: "edit" } });
    if (!saved.changed) return;
    const { goal, before, effects } = saved;
    let what = `Saved ${quoted(goal.name)}.`;
    if (goal.name !== before.name) what = `Renamed ${quoted(before.name)} to ${quoted(goal.name)}.`;
    else if (goal.completion !== before.completion) what = `Set the rule of ${quoted(goal.name)} to ${ruleLabel(goal.completion)}.`;
    this.offerUndo(what + effectsSentence(effects), op, node.id);
  }

  /**
   * Make a change that completion rules may spread: first as a dry run; when it would also
   * change goals other than its own (`own`: a Set of ids, or a function of the planned changes),
   * ask, and send it only on confirm. Resolves to the effects it had, or null when the person
   * said no. A refusal of the dry run (409 open-descendants, rule-conflict, …) throws.
   */
  async guarded(method, path, { body, own, title, intro, confirmLabel }) {
    const effects = await planned(method, path, { body, own });
    if (effects.count) {
      const ok = await effectsDialog({ title, intro, effects, goalName: this.goalName, confirmLabel });
      if (!ok) return null;
    }
    await api(method, path, { body });
    return effects;
  }

  async setDone(id, done, box) {
    box.disabled = true;
    const end = done ? new Date(Date.now() + this.skew).toISOString() : null;
    const name = this.nodes.get(id)?.name;
    let op = null;
    let effects = null;
    const ok = await this.change(
      async () => {
        effects = await this.guarded("PATCH", `/goals/${id}`, {
          body: { end },
          own: new Set([id]),
          title: done ? `Complete ${quoted(name)}?` : `Reopen ${quoted(name)}?`,
          intro: done ? `Completing ${quoted(name)} changes other goals too.` : `Reopening ${quoted(name)} changes other goals too.`,
          confirmLabel: done ? "Complete" : "Reopen",
        });
        if (effects) op = await this.lastOp(id);
      },
      { focus: { id, action: "done" } },
    );
    if (!ok || !effects) return;
    const what = done ? `Marked ${quoted(name)} done.` : `Reopened ${quoted(name)}.`;
    this.offerUndo(what + effectsSentence(effects), op, id);
  }

  async pickMove(node) {
    const choice = await moveDialog(node, this);
    if (choice) await this.move(node.id, choice.parentId);
  }

  async move(id, parentId) {
    const node = this.nodes.get(id);
    if (!node || node.parent_id === parentId) return;
    const target = parentId === null ? "the top level" : quoted(this.nodes.get(parentId)?.name);
    let op = null;
    let effects = null;
    const ok = await this.change(
      async () => {
        effects = await this.guarded("PATCH", `/goals/${id}`, {
          body: { parent_id: parentId },
          own: new Set([id]),
          title: `Move ${quoted(node.name)}?`,
          intro: `Moving ${quoted(node.name)} to ${target} changes other goals too.`,
          confirmLabel: "Move",
        });
        if (!effects) return;
        op = await this.lastOp(id);
        if (parentId !== null) this.state.expanded.add(parentId);
      },
      { focus: { id, action: "move" }, reveal: id },
    );
    if (ok && effects) this.offerUndo(`Moved ${quoted(node.name)} to ${target}.${effectsSentence(effects)}`, op, id);
  }

  /**
   * Delete moves the goal to the trash. Its own subtree going with it is no question (the
   * notice offers Undo); only an effect outside it (an auto parent completing, now that its
   * last open child is gone) is asked about first.
   */
  async trash(node) {
    const count = this.subtreeIds(node.id).size - 1;
    let op = null;
    let effects = null;
    const ok = await this.change(async () => {
      effects = await this.guarded("DELETE", `/goals/${node.id}`, {
        // The goals the delete trashes are its own: its subtree, as the server has it now.
        own: (changes) => new Set([node.id, ...changes.filter((c) => c.field === "trashed").map((c) => c.goal_id)]),
        title: `Delete ${quoted(node.name)}?`,
        intro: `Moving ${quoted(node.name)} to the trash changes other goals too.`,
        confirmLabel: "Move to trash",
      });
      if (effects) op = await this.lastOp(node.id);
    });
    if (!ok || !effects) return;
    const what = count ? ` and its ${count} sub-goal${count === 1 ? "" : "s"}` : "";
    this.offerUndo(`Moved ${quoted(node.name)}${what} to the trash.${effectsSentence(effects)}`, op, node.id);
  }

  // ---------------------------------------------------------------- drag and drop

  onDragStart(event) {
    const row = event.target.closest?.(".goal-row");
    if (!row) return;
    this.dragId = Number(row.dataset.id);
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", this.nodes.get(this.dragId)?.name || "");
    this.section.classList.add("dragging");
    if (this.dropRoot) this.dropRoot.hidden = this.nodes.get(this.dragId)?.parent_id === null;
  }

  canDrop(targetId) {
    if (this.dragId === null || targetId === this.dragId) return false;
    if (this.isInside(targetId, this.dragId)) return false;
    return this.nodes.get(this.dragId)?.parent_id !== targetId;
  }

  onDragOver(event) {
    const row = event.target.closest?.(".goal-row");
    if (!row || !this.canDrop(Number(row.dataset.id))) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (!row.classList.contains("drop-target")) {
      this.tree.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
      row.classList.add("drop-target");
    }
  }

  onDragLeave(event) {
    const row = event.target.closest?.(".goal-row");
    if (row && !row.contains(event.relatedTarget)) row.classList.remove("drop-target");
  }

  onDrop(event) {
    const row = event.target.closest?.(".goal-row");
    if (!row) return;
    event.preventDefault();
    const id = this.dragId;
    const target = Number(row.dataset.id);
    this.endDrag();
    if (id !== null && id !== target) this.move(id, target);
  }

  endDrag() {
    this.dragId = null;
    this.section.classList.remove("dragging");
    if (this.dropRoot) {
      this.dropRoot.hidden = true;
      this.dropRoot.classList.remove("over");
    }
    this.tree.querySelectorAll(".drop-target").forEach((el) => el.classList.remove("drop-target"));
  }
}
