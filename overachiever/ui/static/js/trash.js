// The trash: deleted subtrees, restored with the same ids or purged for good.

import { api } from "./api.js";
import { confirmDialog } from "./dialogs.js";
import { formatDate, formatDateTime, h, quoted } from "./dom.js";
import { showError, showInfo } from "./notify.js";
import { lastOperation, noticeWithUndo } from "./undo.js";

/** Render the trash page into `main`. */
export async function renderTrash(main) {
  const body = h("div", { class: "trash-body" }, h("p", { class: "summary" }, "Loading the trash…"));
  main.replaceChildren(
    h(
      "section",
      { class: "trash", "aria-labelledby": "trash-title" },
      h("div", { class: "view-head" }, h("h1", { id: "trash-title" }, "Trash"), h("p", { class: "summary" }, "Deleted goals stay here, with all their sub-goals, until they are purged.")),
      body,
    ),
  );

  async function refresh(focusAfter = false) {
    let items;
    try {
      ({ data: { items } } = await api("GET", "/trash"));
    } catch (error) {
      showError(error);
      body.replaceChildren();
      return;
    }
    if (!items.length) {
      body.replaceChildren(h("p", { class: "empty", tabindex: "-1" }, "The trash is empty."));
      if (focusAfter) body.firstElementChild.focus();
      return;
    }
    const rows = items.map((item) =>
      h(
        "tr",
        { dataset: { id: String(item.id) } },
        h("th", { scope: "row" }, item.name),
        h("td", {}, item.goals_count === 1 ? "1 goal" : `${item.goals_count} goals`),
        h("td", {}, formatDateTime(item.deleted_at)),
        h("td", {}, formatDate(item.purge_at)),
        h(
          "td",
          { class: "row-actions" },
          h("button", { type: "button", class: "button small", "aria-label": `Restore ${item.name}`, onclick: () => restore(item) }, "Restore"),
          h("button", { type: "button", class: "button small danger-ghost", "aria-label": `Delete ${item.name} forever`, onclick: () => purge(item) }, "Delete forever"),
        ),
      ),
    );
    body.replaceChildren(
      h(
        "div",
        { class: "table-wrap" },
        h(
        "table",
        { class: "table" },
        h("caption", { class: "visually-hidden" }, "Deleted goals"),
        h("thead", {}, h("tr", {}, ["Goal", "Size", "Deleted", "Purged on", h("span", { class: "visually-hidden" }, "Actions")].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows),
        ),
      ),
    );
    if (focusAfter) body.querySelector("button")?.focus();
  }

  async function restore(item) {
    let op = null;
    let ok = false;
    try {
      await api("POST", `/trash/${item.id}/restore`);
      op = await lastOperation(item.id);
      ok = true;
    } catch (error) {
      showError(error);
    }
    await refresh(true);
    // Undo puts it back in the trash; a purge is not undoable, so it gets no Undo.
    if (ok) noticeWithUndo(`Restored ${quoted(item.name)} to your goals.`, op, () => refresh());
  }

  async function purge(item) {
    const sure = await confirmDialog({
      title: `Delete ${quoted(item.name)} forever?`,
      message: `${item.goals_count === 1 ? "This goal" : `These ${item.goals_count} goals`} will be gone for good; this cannot be undone.`,
      confirmLabel: "Delete forever",
    });
    if (!sure) return;
    try {
      await api("DELETE", `/trash/${item.id}`);
      showInfo(`Deleted ${quoted(item.name)} forever.`);
    } catch (error) {
      showError(error);
    }
    await refresh(true);
  }

  await refresh();
}
