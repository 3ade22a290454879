// The Calendar page: secret feed URLs that calendar apps subscribe to. A new feed's URL is shown
// once (the server keeps only a digest of its secret); feeds are listed by name and revoked.

import { api } from "./api.js";
import { confirmDialog } from "./dialogs.js";
import { field, formatDateTime, h, quoted, timeAgo } from "./dom.js";
import { showError, showInfo } from "./notify.js";

/** Copy text to the clipboard; false when the browser does not allow it. */
async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

/** Render the Calendar page into `main`. */
export async function renderCalendar(main) {
  const name = field("Feed name", { name: "name", maxlength: 100, autocomplete: "off", placeholder: "e.g. Phone" }, { hint: "To tell your feeds apart, e.g. the app or device that uses it." });
  const formError = h("p", { class: "form-error", role: "alert" });
  const created = h("div", { class: "feed-created" });
  const list = h("div", { class: "feed-list" }, h("p", { class: "summary" }, "Loading your feeds…"));
  const form = h(
    "form",
    { class: "feed-form", onsubmit: (event) => create(event) },
    h("h2", {}, "New feed"),
    name.wrap,
    h("button", { type: "submit", class: "button primary" }, "Create feed"),
    formError,
  );
  main.replaceChildren(
    h(
      "section",
      { class: "calendar", "aria-labelledby": "calendar-title" },
      h(
        "div",
        { class: "view-head" },
        h("h1", { id: "calendar-title" }, "Calendar feeds"),
        h(
          "p",
          { class: "summary" },
          "Subscribe to your goals from a calendar app (Thunderbird, Apple Calendar, Google Calendar, …): each goal is a to-do with its start, due date and completion. Anyone who has a feed's address can read your goals, so keep it private, and revoke a feed you no longer use.",
        ),
      ),
      form,
      created,
      h("h2", {}, "Your feeds"),
      list,
    ),
  );

  async function create(event) {
    event.preventDefault();
    formError.textContent = "";
    const body = name.input.value.trim() ? { name: name.input.value } : undefined;
    let feed;
    try {
      ({ data: feed } = await api("POST", "/calendar-feeds", { body }));
    } catch (error) {
      showError(error);
      return;
    }
    name.input.value = "";
    showCreated(feed);
    await refresh();
  }

  function showCreated(feed) {
    const url = new URL(feed.url, location.origin).href;
    const address = h("input", { type: "text", readonly: true, value: url, class: "feed-url", id: "feed-url", "aria-describedby": "feed-url-warning" });
    const copy = h("button", { type: "button", class: "button primary" }, "Copy address");
    copy.addEventListener("click", async () => {
      if (await copyText(url)) showInfo("The feed's address is copied.");
      else {
        address.select();
        showInfo("Copying is not allowed here: the address is selected, press Ctrl+C (⌘C) to copy it.");
      }
    });
    const dismiss = h("button", { type: "button", class: "button ghost" }, "Done");
    dismiss.addEventListener("click", () => created.replaceChildren());
    created.replaceChildren(
      h(
        "div",
        { class: "callout", role: "region", "aria-labelledby": "feed-created-title" },
        h("h2", { id: "feed-created-title" }, `The address of ${quoted(feed.name)}`),
        h("label", { for: "feed-url", class: "visually-hidden" }, "Feed address"),
        h("div", { class: "inline" }, address, copy),
        h(
          "p",
          { class: "warning", id: "feed-url-warning" },
          "Copy it now: it is shown only this once. Add it to your calendar app as a subscription (\u201cFrom URL\u201d). If you lose it, revoke this feed and create another.",
        ),
        dismiss,
      ),
    );
    address.focus();
    address.select();
  }

  async function refresh() {
    let items;
    try {
      ({ data: { items } } = await api("GET", "/calendar-feeds"));
    } catch (error) {
      showError(error);
      list.replaceChildren();
      return;
    }
    if (!items.length) {
      list.replaceChildren(h("p", { class: "empty" }, "No feeds yet."));
      return;
    }
    const rows = items.map((feed) =>
      h(
        "tr",
        { dataset: { id: String(feed.id) } },
        h("th", { scope: "row" }, feed.name),
        h("td", {}, formatDateTime(feed.created_at)),
        h("td", {}, feed.last_used_at ? timeAgo(feed.last_used_at) : "Never"),
        h(
          "td",
          { class: "row-actions" },
          h("button", { type: "button", class: "button small danger-ghost", "aria-label": `Revoke ${feed.name}`, onclick: () => revoke(feed) }, "Revoke"),
        ),
      ),
    );
    list.replaceChildren(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "table" },
          h("caption", { class: "visually-hidden" }, "Your calendar feeds"),
          h("thead", {}, h("tr", {}, ["Name", "Created", "Last read", h("span", { class: "visually-hidden" }, "Actions")].map((t) => h("th", { scope: "col" }, t)))),
          h("tbody", {}, rows),
        ),
      ),
    );
  }

  async function revoke(feed) {
    const sure = await confirmDialog({
      title: `Revoke ${quoted(feed.name)}?`,
      message: "Calendar apps subscribed to its address will stop getting your goals. This cannot be undone.",
      confirmLabel: "Revoke",
    });
    if (!sure) return;
    try {
      await api("DELETE", `/calendar-feeds/${feed.id}`);
      showInfo(`Revoked ${quoted(feed.name)}.`);
    } catch (error) {
      showError(error);
    }
    await refresh();
    list.querySelector("button")?.focus();
  }

  await refresh();
}
