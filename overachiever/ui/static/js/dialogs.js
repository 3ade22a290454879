// Modal dialogs (<dialog> with a form): goal editor (with the goal's Activity and rule), a
// viewer's read-only details of a goal, sub-goal form, "Move to…" picker, confirmation, and the
// question before a change with effects elsewhere.

import { activityPanel } from "./activity.js";
import { api, describeError } from "./api.js";
import { field, formatDateTime, fromDateInput, h, quoted, toDateInput, uid } from "./dom.js";
import { RULES, effectLines, planned, ruleLabel, rulePicker } from "./rules.js";

// "Cascade — Completing this goal completes all its open sub-goals.", by rule.
const RULES_TEXT = new Map(RULES.map((r) => [r.value, `${r.label} \u2014 ${r.sentence}`]));

/**
 * Show a modal form. onSubmit() resolves to the dialog's result and closes it; if it throws,
 * the error is shown inside the dialog, which stays open (onSubmit may first refresh the form).
 * `after` is shown below the buttons (information, not part of the form's input).
 * Resolves to the result, or undefined when cancelled.
 */
export function openDialog({ title, body, submitLabel, onSubmit, danger = false, wide = false, goalName = null, after = null }) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid("dialog-title");
    const error = h("p", { class: "form-error", role: "alert" });
    const submit = h("button", { type: "submit", class: `button ${danger ? "danger" : "primary"}` }, submitLabel);
    const cancel = h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Cancel");
    const form = h(
      "form",
      { class: "dialog-form", novalidate: false },
      h("h2", { id: titleId }, title),
      body,
      error,
      h("div", { class: "dialog-actions" }, cancel, submit),
      after,
    );
    const dialog = h("dialog", { "aria-labelledby": titleId, class: wide ? "wide" : null }, form);
    let result;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      submit.disabled = true;
      error.textContent = "";
      try {
        result = await onSubmit();
        dialog.close();
      } catch (e) {
        error.textContent = typeof e === "string" ? e : describeError(e, goalName);
      } finally {
        submit.disabled = false;
      }
    });
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve(result);
    });
    document.body.append(dialog);
    dialog.showModal();
    const first = form.querySelector("input, textarea, select");
    if (first) first.focus();
  });
}

/** Ask a yes/no question; resolves to true when confirmed. */
export async function confirmDialog({ title, message, confirmLabel, danger = true }) {
  const answer = await openDialog({
    title,
    body: h("p", {}, message),
    submitLabel: confirmLabel,
    danger,
    onSubmit: async () => true,
  });
  return answer === true;
}

/**
 * Ask before a change that would also change other goals; `effects` as rules.effectsOf gives
 * them, listed a line each ("Also completes: Paint, Sand, … (12 goals)"). Resolves to true
 * when confirmed.
 */
export async function effectsDialog({ title, intro, effects, goalName, confirmLabel }) {
  const lines = effectLines(effects, goalName);
  const answer = await openDialog({
    title,
    body: [h("p", {}, intro), h("ul", { class: "effects" }, lines.map((line) => h("li", {}, line)))],
    submitLabel: confirmLabel,
    danger: false,
    onSubmit: async () => true,
  });
  return answer === true;
}

/** A goal's facts in a line: "Started … · completed … · 2 of 5 sub-goals done." */
function factsOf(g) {
  const parts = [`Started ${formatDateTime(g.start)}`];
  if (g.end) parts.push(`completed ${formatDateTime(g.end)}`);
  if (g.descendants_count) parts.push(`${g.done_descendants_count} of ${g.descendants_count} sub-goals done`);
  return parts.join(" · ") + ".";
}

/**
 * A goal's details and Activity, read-only (for a goal shared with the person as a viewer).
 * Throws the ApiError when the goal cannot be read; resolves when closed.
 */
export async function goalDetailsDialog(goalId, goalName = null) {
  const { data: g } = await api("GET", `/goals/${goalId}`);
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid("dialog-title");
    const close = h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Close");
    const rule = RULES_TEXT.get(g.completion);
    const dialog = h(
      "dialog",
      { "aria-labelledby": titleId, class: "wide goal-details" },
      h(
        "div",
        { class: "dialog-form" },
        h("h2", { id: titleId }, quoted(g.name)),
        h("p", { class: "facts" }, factsOf(g)),
        g.due ? h("p", {}, `Due ${formatDateTime(g.due)}.`) : null,
        g.description ? h("p", { class: "description" }, g.description) : null,
        rule ? h("p", {}, `Completion rule: ${rule}`) : null,
        h("div", { class: "dialog-actions" }, close),
        activityPanel(goalId, goalName),
      ),
    );
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
    close.focus();
  });
}

/** Fields shared by the new-goal and edit-goal forms. */
function goalFields(values = {}) {
  const name = field("Name", { name: "name", required: true, maxlength: 200, autocomplete: "off", value: values.name || "" });
  const description = field(
    "Description",
    { name: "description", maxlength: 10000, rows: 4 },
    { kind: "textarea", hint: "Optional." },
  );
  description.input.value = values.description || "";
  const due = field("Due date", { name: "due", value: toDateInput(values.due) }, { kind: "date", hint: "Optional; clear it to remove the due date." });
  const rule = rulePicker(values.completion);
  return {
    name: name.input,
    description: description.input,
    due: due.input,
    rule,
    wraps: [name.wrap, description.wrap, due.wrap, rule.wrap],
  };
}

/**
 * Ask for a new sub-goal of `parent`; creates it and resolves to the new goal (or undefined).
 * goalName(id) names goals in error messages.
 */
export function newSubGoalDialog(parent, goalName = null) {
  const fields = goalFields();
  return openDialog({
    goalName,
    title: `New sub-goal of ${quoted(parent.name)}`,
    body: fields.wraps,
    submitLabel: "Add sub-goal",
    onSubmit: async () => {
      const body = { name: fields.name.value, parent_id: parent.id };
      if (fields.description.value) body.description = fields.description.value;
      if (fields.due.value) body.due = fromDateInput(fields.due.value);
      if (fields.rule.value() !== "manual") body.completion = fields.rule.value();
      const { data } = await api("POST", "/goals", { body });
      return data;
    },
  });
}

/**
 * Edit a goal's name, description, due date and completion rule, with the goal's Activity
 * below. The save is conditional (If-Match): when the goal changed elsewhere meanwhile, the form
 * is refilled with the current version and says so. A new rule is first tried as a dry run:
 * when it would change other goals (an auto goal completing its auto parent), the person is
 * asked, and nothing is saved unless they confirm. Resolves to {goal, before, changed, effects}
 * (changed: false when nothing was sent), or undefined when cancelled.
 */
export async function editGoalDialog(goalId, goalName = null) {
  let current = await api("GET", `/goals/${goalId}`);
  const fields = goalFields(current.data);
  const facts = h("p", { class: "facts" });
  const fill = () => {
    const g = current.data;
    fields.name.value = g.name;
    fields.description.value = g.description;
    fields.due.value = toDateInput(g.due);
    const rule = fields.rule.wrap.querySelector(`input[value="${g.completion}"]`);
    if (rule) rule.checked = true;
    facts.textContent = factsOf(g);
  };
  fill();
  return openDialog({
    goalName,
    title: `Edit ${quoted(current.data.name)}`,
    body: [facts, ...fields.wraps],
    after: activityPanel(goalId, goalName),
    wide: true,
    submitLabel: "Save",
    onSubmit: async () => {
      const g = current.data;
      const changes = {};
      if (fields.name.value.trim() !== g.name) changes.name = fields.name.value;
      if (fields.description.value !== g.description) changes.description = fields.description.value;
      if (fields.due.value !== toDateInput(g.due)) changes.due = fromDateInput(fields.due.value);
      if (fields.rule.value() !== g.completion) changes.completion = fields.rule.value();
      if (!Object.keys(changes).length) return { goal: g, before: g, changed: false, effects: null };
      const headers = { "If-Match": current.etag };
      try {
        let effects = null;
        if (changes.completion) {
          effects = await planned("PATCH", `/goals/${goalId}`, { body: changes, headers, own: new Set([goalId]) });
          if (effects.count) {
            const ok = await effectsDialog({
              title: `Change the rule of ${quoted(g.name)}?`,
              intro: `With the ${ruleLabel(changes.completion)} rule, saving changes other goals too.`,
              effects,
              goalName,
              confirmLabel: "Save",
            });
            if (!ok) throw "Nothing was saved. Choose another rule, or Save again to see what it changes.";
          }
        }
        const { data } = await api("PATCH", `/goals/${goalId}`, { body: changes, headers });
        return { goal: data, before: g, changed: true, effects };
      } catch (error) {
        if (error.status === 412) {
          current = await api("GET", `/goals/${goalId}`);
          fill();
        }
        throw error;
      }
    },
  });
}

const MAX_OPTIONS = 300;

/**
 * The keyboard-usable "Move to…" picker: a filter box and a list box of every place the goal
 * may go (the top level, or any goal outside its own subtree). Resolves to {parentId} or undefined.
 * forest: {nodes: Map(id -> node), subtreeIds(id) -> Set, label(id) -> string, topLevel: whether
 * the top level is a place (not within a goal shared with the person)}.
 */
export function moveDialog(goal, forest) {
  const excluded = forest.subtreeIds(goal.id);
  const candidates = [];
  for (const node of forest.nodes.values()) {
    if (!excluded.has(node.id)) candidates.push(node);
  }
  const filter = field("Filter places", { type: "search", autocomplete: "off", maxlength: 200 }, { kind: "search" });
  const listId = uid("move-target");
  const select = h("select", { id: listId, size: 10, required: true, class: "move-list" });
  const count = h("p", { class: "hint", id: `${listId}-hint`, "aria-live": "polite" });
  select.setAttribute("aria-describedby", count.id);
  const fill = () => {
    const text = filter.input.value.trim().toLowerCase();
    const options = [];
    if (forest.topLevel !== false && (!text || "top level".includes(text))) {
      options.push(h("option", { value: "root" }, `Top level${goal.parent_id === null ? " (where it is now)" : ""}`));
    }
    let matched = 0;
    for (const node of candidates) {
      if (text && !node.name.toLowerCase().includes(text)) continue;
      matched += 1;
      if (matched > MAX_OPTIONS) continue;
      const here = node.id === goal.parent_id ? " (where it is now)" : "";
      options.push(h("option", { value: String(node.id) }, forest.label(node.id) + here));
    }
    select.replaceChildren(...options);
    count.textContent =
      matched > MAX_OPTIONS
        ? `Showing ${MAX_OPTIONS} of ${matched} goals; type in the filter to narrow them down.`
        : `${matched} goal${matched === 1 ? "" : "s"} ${text ? (matched === 1 ? "matches" : "match") : "to choose from"}.`;
  };
  filter.input.addEventListener("input", fill);
  select.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      select.form.requestSubmit();
    }
  });
  fill();
  return openDialog({
    title: `Move ${quoted(goal.name)}`,
    body: [filter.wrap, h("div", { class: "field" }, h("label", { for: listId }, "New place (under)"), select, count)],
    submitLabel: "Move here",
    wide: true,
    onSubmit: async () => {
      if (!select.value) {
        throw forest.topLevel === false
          ? "Choose where to move the goal: pick a goal in the list."
          : "Choose where to move the goal: pick a goal in the list, or Top level.";
      }
      return { parentId: select.value === "root" ? null : Number(select.value) };
    },
  });
}
