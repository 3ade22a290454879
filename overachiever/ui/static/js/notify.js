// Notices at the top of the page: errors (role=alert) stay until dismissed, news (role=status) fades.

import { describeError } from "./api.js";
import { h } from "./dom.js";

const MAX_NOTICES = 3;

function region() {
  return document.getElementById("notices");
}

function add(kind, message, actions = [], timeout = 0) {
  const box = region();
  const close = () => notice.remove();
  const notice = h(
    "div",
    { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" },
    h("p", {}, message),
    h(
      "div",
      { class: "notice-actions" },
      actions.map(({ label, run }) =>
        h("button", { type: "button", class: "button small", onclick: () => { close(); run(); } }, label),
      ),
      h("button", { type: "button", class: "button small ghost", "aria-label": "Dismiss message", onclick: close }, "Dismiss"),
    ),
  );
  box.append(notice);
  while (box.children.length > MAX_NOTICES) box.firstElementChild.remove();
  if (timeout) setTimeout(close, timeout);
  return notice;
}

/** Show an error (an ApiError or a message) until the person dismisses it. */
export function showError(errorOrMessage) {
  const message = typeof errorOrMessage === "string" ? errorOrMessage : describeError(errorOrMessage);
  return add("error", message);
}

/** Show news, optionally with buttons ([{label, run}]); it goes away after a while. */
export function showInfo(message, actions = []) {
  return add("info", message, actions, actions.length ? 15000 : 6000);
}

/** Remove every notice (on a change of page). */
export function clearNotices() {
  region().replaceChildren();
}
