// Completion rules: their names and sentences, the picker, the badge, and what a dry run says a
// change would do to goals other than the one being changed.

import { api } from "./api.js";
import { h, nameList, uid } from "./dom.js";

/** The four rules, in the order the picker offers them, each with one sentence. */
export const RULES = [
  { value: "manual", label: "Manual", sentence: "Completing this goal changes nothing else." },
  { value: "cascade", label: "Cascade", sentence: "Completing this goal completes all its open sub-goals." },
  {
    value: "auto",
    label: "Auto",
    sentence: "This goal completes itself when all its sub-goals are done, and reopens when one reopens.",
  },
  { value: "strict", label: "Strict", sentence: "This goal cannot be completed while a sub-goal is open." },
];

const BY_VALUE = new Map(RULES.map((rule) => [rule.value, rule]));

/** A rule's label ("Cascade"), for messages. */
export function ruleLabel(value) {
  return BY_VALUE.get(value)?.label ?? value;
}

/**
 * The rule picker: a group of four radio buttons, each with its sentence below its label.
 * Returns {wrap, value()}.
 */
export function rulePicker(current = "manual") {
  const name = uid("completion");
  const options = RULES.map((rule) => {
    const id = uid("rule");
    return h(
      "div",
      { class: "rule-option" },
      h("input", {
        type: "radio",
        name,
        id,
        value: rule.value,
        checked: rule.value === (current || "manual"),
        "aria-describedby": `${id}-hint`,
      }),
      h("label", { for: id }, rule.label),
      h("p", { class: "hint", id: `${id}-hint` }, rule.sentence),
    );
  });
  const wrap = h("fieldset", { class: "rule-picker" }, h("legend", {}, "Completion rule"), options);
  const value = () => wrap.querySelector("input:checked")?.value || "manual";
  return { wrap, value };
}

/** The pill shown beside the name of a goal whose rule is not manual (null for manual). */
export function ruleBadge(value) {
  const rule = BY_VALUE.get(value);
  if (!rule || rule.value === "manual") return null;
  return h(
    "span",
    { class: `badge rule-badge rule-${rule.value}`, title: `${rule.label}: ${rule.sentence}` },
    rule.value,
  );
}

/**
 * What a change would do to goals other than its own (the `own` ids), from a dry run's
 * `changes`: the ids it would complete, reopen, give another completion date, or trash.
 * Other fields of other goals (the positions of siblings a placed goal pushes down) are not
 * effects worth a question.
 */
export function effectsOf(changes, own) {
  const effects = { completes: new Set(), reopens: new Set(), redates: new Set(), trashes: new Set() };
  for (const c of changes) {
    if (c.goal_id === null || own.has(c.goal_id)) continue;
    if (c.field === "end") {
      if (c.before === null && c.after !== null) effects.completes.add(c.goal_id);
      else if (c.before !== null && c.after === null) effects.reopens.add(c.goal_id);
      else effects.redates.add(c.goal_id);
    } else if (c.field === "trashed" && c.after === true) {
      effects.trashes.add(c.goal_id);
    }
  }
  const all = new Set([...effects.completes, ...effects.reopens, ...effects.redates, ...effects.trashes]);
  return { ...effects, count: all.size };
}

/**
 * The effects in words, a line each: "Also completes: Paint, Sand, … (12 goals)"; goals in the
 * order they were made (by id), so the same change is always told alike.
 */
export function effectLines(effects, goalName) {
  const lines = [];
  const add = (ids, words) => {
    if (ids.size) lines.push(`${words}: ${nameList([...ids].sort((a, b) => a - b), goalName)}`);
  };
  add(effects.completes, "Also completes");
  add(effects.reopens, "Also reopens");
  add(effects.redates, "Also changes the completion date of");
  add(effects.trashes, "Also moves to the trash");
  return lines;
}

/** The effects in a sentence for the notice after the change ("" when there are none). */
export function effectsSentence(effects) {
  if (!effects || !effects.count) return "";
  const parts = [];
  const n = (set) => `${set.size} other goal${set.size === 1 ? "" : "s"}`;
  if (effects.completes.size) parts.push(`completed ${n(effects.completes)}`);
  if (effects.reopens.size) parts.push(`reopened ${n(effects.reopens)}`);
  if (effects.redates.size) parts.push(`changed the completion date of ${n(effects.redates)}`);
  if (effects.trashes.size) parts.push(`moved ${n(effects.trashes)} to the trash`);
  return ` It also ${parts.join(" and ")}.`;
}

/**
 * Ask the server what a change would do (the same request with ?dry_run=true), without doing
 * it. Resolves to the effects on goals other than `own` — a Set of ids, or a function of the
 * planned changes giving one. A refusal (409 open-descendants, rule-conflict, …) throws the
 * ApiError the real request would.
 */
export async function planned(method, path, { body, headers, own }) {
  const sep = path.includes("?") ? "&" : "?";
  const { data } = await api(method, `${path}${sep}dry_run=true`, { body, headers });
  const changes = data?.changes || [];
  return effectsOf(changes, typeof own === "function" ? own(changes) : own);
}
