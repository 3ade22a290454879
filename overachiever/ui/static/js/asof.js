// "As it was on …": the forest, read-only, as it was at a chosen instant (GET /goals/tree?as_of=).

import { field, fromDateTimeInput, h, toDateTimeInput } from "./dom.js";
import { renderForestAsOf } from "./forest.js";
import { showError } from "./notify.js";

/** The instant named in the page's address (#/as-of?at=<ISO>), or null. */
function instantInAddress() {
  const query = location.hash.split("?")[1] || "";
  const at = new URLSearchParams(query).get("at");
  return at && Number.isFinite(Date.parse(at)) ? new Date(at).toISOString() : null;
}

/** Render the "as it was" page into `main`; an instant in the address is shown at once. */
export async function renderAsOf(main) {
  const when = field("Date and time", { name: "at", step: 1, required: true }, { kind: "datetime-local" });
  const form = h(
    "form",
    { class: "as-of-pick", onsubmit: (e) => pick(e) },
    h("div", { class: "inline" }, when.wrap, h("button", { type: "submit", class: "button primary" }, "Show")),
  );
  const holder = h("div", { class: "as-of-view" });
  main.replaceChildren(
    h(
      "section",
      { class: "as-of-page", "aria-labelledby": "as-of-title" },
      h(
        "div",
        { class: "view-head" },
        h("h1", { id: "as-of-title" }, "As it was"),
        h("p", { class: "summary" }, "See your goals as they were at any moment since history was kept (the time is your local time)."),
      ),
      form,
      holder,
    ),
  );

  const back = () => h("a", { href: "#/goals", class: "button" }, "Back to the live goals");

  async function show(iso) {
    when.input.value = toDateTimeInput(iso);
    const shown = await renderForestAsOf(holder, iso, back());
    // Keep the instant in the address (a reload or a bookmark shows it again), but only when it
    // could be shown: a refused instant (the future, say) stays out.
    if (shown) history.replaceState(null, "", `#/as-of?at=${encodeURIComponent(iso)}`);
    else holder.replaceChildren();
  }

  async function pick(event) {
    event.preventDefault();
    const iso = fromDateTimeInput(when.input.value);
    if (!iso) {
      showError("Choose a date and a time to see your goals as they were then.");
      when.input.focus();
      return;
    }
    await show(iso);
  }

  const at = instantInAddress();
  if (at) await show(at);
}
