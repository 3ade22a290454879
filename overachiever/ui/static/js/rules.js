// Completion rules: their names and sentences, the picker and the badge.

import { h, uid } from "./dom.js";

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
