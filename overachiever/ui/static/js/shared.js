// "Shared with me": the goals other people shared with the person (#/shared), each with its
// owner and the person's role, and one of them opened with everything under it (#/shared/<id>).
// A recipient may leave a share.

import { api } from "./api.js";
import { confirmDialog } from "./dialogs.js";
import { h, percent, quoted } from "./dom.js";
import { renderSharedGoal } from "./forest.js";
import { showError, showInfo } from "./notify.js";
import { aRole, roleLabel } from "./share.js";

/** What a role lets the person do, in a sentence. */
const CAN = {
  viewer: "You can look at it and everything under it, but not change anything.",
  editor: "You can add, change, complete, move and delete goals under it; the goal itself stays where its owner put it.",
};

/** The goal id named in the page's address (#/shared/<id>), or null for the list. */
function goalInAddress() {
  const match = location.hash.match(/^#\/?shared\/(\d+)/);
  return match ? Number(match[1]) : null;
}

/** Render the "Shared with me" page into `main`: the list, or the goal the address names. */
export async function renderShared(main) {
  const id = goalInAddress();
  if (id === null) await renderList(main);
  else await renderOne(main, id);
}

async function readShared() {
  const { data } = await api("GET", "/shared");
  return data.items;
}

/**
 * Leave a share (after asking): the goal goes from the person's "Shared with me". Resolves to
 * true when they left.
 */
async function leave(item) {
  const sure = await confirmDialog({
    title: `Leave ${quoted(item.goal.name)}?`,
    message: `${quoted(item.goal.name)} will no longer be shared with you; only ${item.owner.name} can share it with you again.`,
    confirmLabel: "Leave",
  });
  if (!sure) return false;
  try {
    await api("DELETE", `/goals/${item.goal.id}/shares/${item.share_id}`);
  } catch (error) {
    // Already gone (the owner removed it meanwhile): the person is out, as they wanted.
    if (error.status !== 404) {
      showError(error);
      return false;
    }
  }
  showInfo(`You left ${quoted(item.goal.name)}.`);
  return true;
}

async function renderList(main) {
  const body = h("div", { class: "shared-body" }, h("p", { class: "summary" }, "Loading what is shared with you…"));
  main.replaceChildren(
    h(
      "section",
      { class: "shared", "aria-labelledby": "shared-title" },
      h(
        "div",
        { class: "view-head" },
        h("h1", { id: "shared-title" }, "Shared with me"),
        h("p", { class: "summary" }, "Goals other people shared with you, each with everything under it."),
      ),
      body,
    ),
  );

  async function refresh(focusAfter = false) {
    let items;
    try {
      items = await readShared();
    } catch (error) {
      showError(error);
      body.replaceChildren();
      return;
    }
    if (!items.length) {
      body.replaceChildren(
        h("p", { class: "empty", tabindex: "-1" }, "Nothing is shared with you yet. When someone shares a goal with you, it shows here."),
      );
      if (focusAfter) body.firstElementChild.focus();
      return;
    }
    const rows = items.map((item) => {
      const g = item.goal;
      const pct = percent(g.progress);
      return h(
        "tr",
        { dataset: { share: String(item.share_id) } },
        h("th", { scope: "row" }, h("a", { href: `#/shared/${g.id}` }, g.name), g.end ? h("span", { class: "badge done-badge" }, "Done") : null),
        h("td", {}, item.owner.name),
        h("td", {}, h("span", { class: `badge role-badge role-${item.role}` }, roleLabel(item.role))),
        h(
          "td",
          { class: "shared-progress" },
          h("progress", { max: 100, value: pct, "aria-label": `Progress of ${g.name}` }, `${pct}%`),
          h("span", { class: "pct", "aria-hidden": "true" }, `${pct}%`),
        ),
        h(
          "td",
          { class: "row-actions" },
          h(
            "button",
            {
              type: "button",
              class: "button small danger-ghost",
              "aria-label": `Leave ${g.name}`,
              onclick: async () => {
                if (await leave(item)) await refresh(true);
              },
            },
            "Leave",
          ),
        ),
      );
    });
    body.replaceChildren(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table" },
          h("caption", { class: "visually-hidden" }, "Goals shared with you"),
          h(
            "thead",
            {},
            h("tr", {}, ["Goal", "Owner", "Your role", "Progress", h("span", { class: "visually-hidden" }, "Actions")].map((t) => h("th", { scope: "col" }, t))),
          ),
          h("tbody", {}, rows),
        ),
      ),
    );
    if (focusAfter) body.querySelector("a, button")?.focus();
  }

  await refresh();
}

/** The page of one goal shared with the person: who shared it, the role, and its subtree. */
async function renderOne(main, goalId) {
  const back = () => h("a", { href: "#/shared", class: "button" }, "All goals shared with me");
  const gone = (text) => {
    main.replaceChildren(
      h(
        "section",
        { class: "shared", "aria-labelledby": "shared-title" },
        h("div", { class: "view-head" }, h("h1", { id: "shared-title" }, "Shared with me")),
        h("p", { class: "empty" }, text),
        h("p", {}, back()),
      ),
    );
  };
  let items;
  try {
    items = await readShared();
  } catch (error) {
    showError(error);
    return;
  }
  const item = items.find((i) => i.goal.id === goalId);
  if (!item) {
    gone("That goal is not shared with you (any more). Its owner may have stopped sharing it, or deleted it.");
    return;
  }
  const leaveButton = h("button", { type: "button", class: "button danger-ghost" }, "Leave");
  leaveButton.addEventListener("click", async () => {
    if (await leave(item)) location.hash = "#/shared";
  });
  const head = h(
    "div",
    { class: "shared-head" },
    h("div", { class: "view-head" }, h("h1", { id: "goals-title" }, item.goal.name)),
    h(
      "div",
      { class: `shared-banner role-${item.role}`, role: "note" },
      h(
        "p",
        { class: "shared-by" },
        "Shared with you by ",
        h("strong", {}, item.owner.name),
        " as ",
        h("span", { class: `badge role-badge role-${item.role}` }, roleLabel(item.role)),
      ),
      h("p", { class: "hint" }, CAN[item.role] || `You are ${aRole(item.role)}.`),
      h("div", { class: "shared-actions" }, back(), leaveButton),
    ),
  );
  const holder = h("div", { class: "shared-view" });
  main.replaceChildren(holder);
  await renderSharedGoal(holder, item, head, {
    onLost: () => gone(`${quoted(item.goal.name)} is no longer shared with you. Its owner may have stopped sharing it, or deleted it.`),
    // A change refused as not allowed: the role may have changed meanwhile, so read it again.
    onRefused: () => renderOne(main, goalId),
  });
}
