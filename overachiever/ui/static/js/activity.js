// A goal's Activity: its recorded events (GET /goals/{id}/history), newest first, in words.

import { api, describeError } from "./api.js";
import { formatDate, h, timeAgo } from "./dom.js";
import { session } from "./session.js";

const PAGE = 10;

/** Who did it: "you" for the signed-in person, the actor's name, or "the server" (no actor). */
export function who(actor) {
  if (!actor) return "the server";
  if (actor.id === session.user?.id) return "you";
  return actor.name || `user #${actor.id}`;
}

/** A goal's name as emphasis (or "goal #id" when its name is gone). */
function goal(name, id) {
  return name === null || name === undefined ? `goal #${id}` : h("em", {}, name);
}

/**
 * What an event did, as a list of nodes ("renamed *Paint* → *Paint walls*").
 * goalName(id) names other goals (a new parent) when the page knows them.
 */
export function eventWords(event, goalName = null) {
  const c = event.changes || {};
  const it = goal(event.name, event.goal_id);
  const name = () => goal(event.name, event.goal_id);
  switch (event.kind) {
    case "created":
      return ["created ", it];
    case "trashed":
      return ["moved ", it, " to the trash"];
    case "restored":
      return ["restored ", it, " from the trash"];
    case "purged":
      return ["deleted ", it, " forever"];
    default:
      break;
  }
  const parts = [];
  if (c.name) parts.push(["renamed ", goal(c.name[0], event.goal_id), " \u2192 ", goal(c.name[1], event.goal_id)]);
  if (c.end) parts.push([c.end[1] === null ? "reopened " : "completed ", name()]);
  if (c.parent_id) {
    const to = c.parent_id[1];
    const where = to === null ? " to the top level" : [" under ", goal(goalName?.(to) ?? null, to)];
    parts.push(["moved ", name(), where]);
  } else if (c.position) {
    parts.push(["reordered ", name()]);
  }
  if (c.description) parts.push(["changed the description of ", name()]);
  if (c.due) {
    const due = c.due[1];
    parts.push(due === null ? ["removed the due date of ", name()] : ["set the due date of ", name(), ` to ${formatDate(due)}`]);
  }
  if (c.start) parts.push(["changed the start of ", name()]);
  const told = new Set(["name", "end", "parent_id", "position", "description", "due", "start"]);
  const others = Object.keys(c).filter((field) => !told.has(field));
  if (others.length) parts.push([`changed ${others.join(", ")} of `, name()]);
  if (!parts.length) parts.push(["saved ", name(), " unchanged"]);
  const words = [];
  parts.forEach((part, i) => {
    if (i) words.push(i === parts.length - 1 ? " and " : ", ");
    words.push(...part);
  });
  return words;
}

/**
 * The Activity panel of a goal: a section that fills itself (10 events at a time, with "More").
 * goalName(id) names goals in the words.
 */
export function activityPanel(goalId, goalName = null) {
  const list = h("ol", { class: "activity-list" });
  const status = h("p", { class: "hint", "aria-live": "polite" }, "Loading the activity…");
  const more = h("button", { type: "button", class: "button small ghost", hidden: true }, "More");
  const panel = h(
    "section",
    { class: "activity", "aria-label": "Activity" },
    h("h3", {}, "Activity"),
    list,
    status,
    more,
  );
  let shown = 0;

  async function load() {
    more.disabled = true;
    let page;
    try {
      ({ data: page } = await api("GET", `/goals/${goalId}/history?offset=${shown}&limit=${PAGE}`));
    } catch (error) {
      status.textContent = `The activity could not be read: ${describeError(error, goalName)}`;
      more.disabled = false;
      return;
    }
    for (const event of page.items) {
      list.append(
        h("li", { dataset: { event: String(event.id) } }, who(event.actor), " ", eventWords(event, goalName), " \u00b7 ", timeAgo(event.at)),
      );
    }
    shown += page.items.length;
    status.textContent = page.total === 0 ? "Nothing recorded yet." : `${shown} of ${page.total} shown.`;
    more.hidden = shown >= page.total;
    more.disabled = false;
  }

  more.addEventListener("click", load);
  load();
  return panel;
}
