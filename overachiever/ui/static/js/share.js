// The Share dialog of one's own goal: share it (and everything under it) with a person by name
// or e-mail as a viewer or an editor, see who has it, change a role, remove a person.

import { ApiError, api, describeError, sentence } from "./api.js";
import { field, h, quoted, timeAgo, uid } from "./dom.js";

/** The two roles, in the order the pickers offer them, each with what it allows. */
export const ROLES = [
  { value: "viewer", label: "Viewer", sentence: "can see the goal and everything under it" },
  { value: "editor", label: "Editor", sentence: "can also add, change, complete, move and delete goals under it" },
];

const ROLE_LABELS = new Map(ROLES.map((r) => [r.value, r.label]));

/** A role's label ("Editor"), or the value itself for one the page does not know. */
export function roleLabel(value) {
  return ROLE_LABELS.get(value) ?? value;
}

/** A role with its article, for sentences: "a viewer", "an editor". */
export function aRole(value) {
  const label = roleLabel(value).toLowerCase();
  return /^[aeiou]/.test(label) ? `an ${label}` : `a ${label}`;
}

/** A <select> of the roles; `props` go on the element. */
function roleSelect(current, props = {}) {
  return h(
    "select",
    props,
    ROLES.map((r) => h("option", { value: r.value, selected: r.value === current }, r.label)),
  );
}

/** Whether a refused share names the `user` field (422: yourself, an unknown user, …). */
function aboutUser(error) {
  if (!(error instanceof ApiError) || error.status !== 422) return false;
  const errors = Array.isArray(error.problem?.errors) ? error.problem.errors : [];
  return errors.some((e) => (e.loc || []).includes("user"));
}

/** A 422 about the user in words: the server's reason ("a goal cannot be shared with its owner"). */
function userErrorText(error) {
  const p = error.problem || {};
  if (p.detail) return sentence(p.detail);
  const errors = Array.isArray(p.errors) ? p.errors : [];
  const about = errors.filter((e) => (e.loc || []).includes("user")).map((e) => e.msg).filter(Boolean);
  return `That person cannot be given the goal${about.length ? `: ${about.join("; ")}` : ""}.`;
}

/**
 * Open the Share dialog of `goal` ({id, name}). It stays open while people are added, changed
 * and removed (each change is sent at once and said in the status line); resolves when closed.
 */
export function shareDialog(goal) {
  return new Promise((resolve) => {
    const opener = document.activeElement;
    const titleId = uid("dialog-title");
    const user = field(
      "Name or e-mail",
      { name: "user", required: true, maxlength: 320, autocomplete: "off", spellcheck: "false" },
      { hint: "The person's user name or e-mail address on this server." },
    );
    const roleId = uid("share-role");
    const role = roleSelect("viewer", { id: roleId, name: "role" });
    const addError = h("p", { class: "form-error", role: "alert", id: uid("share-error") });
    const submit = h("button", { type: "submit", class: "button primary" }, "Share");
    const form = h(
      "form",
      { class: "share-add" },
      h(
        "div",
        { class: "share-fields" },
        user.wrap,
        h("div", { class: "field" }, h("label", { for: roleId }, "Role"), role),
        submit,
      ),
      h(
        "ul",
        { class: "hint role-hints" },
        ROLES.map((r) => h("li", {}, h("strong", {}, r.label), `: ${r.sentence}.`)),
      ),
      addError,
    );
    const listTitle = uid("share-list");
    const list = h("ul", { class: "share-list", "aria-labelledby": listTitle });
    const status = h("p", { class: "hint", role: "status", "aria-live": "polite" }, "Loading who has it…");
    const close = h("button", { type: "button", class: "button", onclick: () => dialog.close() }, "Close");
    const dialog = h(
      "dialog",
      { "aria-labelledby": titleId, class: "wide share-dialog" },
      h(
        "div",
        { class: "dialog-form" },
        h("h2", { id: titleId }, `Share ${quoted(goal.name)}`),
        h("p", { class: "facts" }, "People you share a goal with find it, with everything under it now and later, under \u201cShared with me\u201d."),
        form,
        h("section", { class: "shares", "aria-labelledby": listTitle }, h("h3", { id: listTitle }, "People with access"), list, status),
        h("div", { class: "dialog-actions" }, close),
      ),
    );

    const say = (text) => {
      status.textContent = text;
    };

    function item(share) {
      const name = share.user.name;
      const select = roleSelect(share.role, { "aria-label": `Role of ${name}`, class: "share-role" });
      select.addEventListener("change", () => changeRole(share, select));
      const remove = h(
        "button",
        { type: "button", class: "button small danger-ghost", "aria-label": `Remove ${name}`, onclick: () => removeShare(share, remove) },
        "Remove",
      );
      return h(
        "li",
        { class: "share", dataset: { share: String(share.id) } },
        h("span", { class: "share-who" }, h("strong", {}, name), h("span", { class: "hint" }, " since ", timeAgo(share.created_at))),
        select,
        remove,
      );
    }

    /** Read who has the goal; resolves to false (said in the status line) when it cannot. */
    async function refresh(message = null) {
      let items;
      try {
        ({ data: { items } } = await api("GET", `/goals/${goal.id}/shares`));
      } catch (error) {
        say(`Who has it could not be read: ${describeError(error)}`);
        return false;
      }
      list.replaceChildren(...items.map(item));
      const count = items.length === 0 ? "Nobody else has it yet." : `Shared with ${items.length} ${items.length === 1 ? "person" : "people"}.`;
      say(message ? `${message} ${count}` : count);
      return true;
    }

    async function add(event) {
      event.preventDefault();
      addError.textContent = "";
      user.input.removeAttribute("aria-invalid");
      const who = user.input.value.trim();
      if (!who) {
        addError.textContent = "Type the name or e-mail address of the person to share with.";
        user.input.setAttribute("aria-invalid", "true");
        user.input.setAttribute("aria-describedby", addError.id);
        user.input.focus();
        return;
      }
      submit.disabled = true;
      let share;
      let created;
      try {
        ({ data: share } = await api("POST", `/goals/${goal.id}/shares`, { body: { user: who, role: role.value } }));
        // Sharing again with someone who has it changes their role.
        created = !listed(share.id);
      } catch (error) {
        addError.textContent = aboutUser(error) ? userErrorText(error) : describeError(error);
        if (aboutUser(error)) {
          user.input.setAttribute("aria-invalid", "true");
          user.input.setAttribute("aria-describedby", addError.id);
        }
        user.input.focus();
        return;
      } finally {
        submit.disabled = false;
      }
      user.input.value = "";
      const what = created ? `Shared with ${share.user.name} as ${aRole(share.role)}.` : `${share.user.name} is now ${aRole(share.role)}.`;
      await refresh(what);
      user.input.focus();
    }

    function listed(shareId) {
      return Boolean(list.querySelector(`[data-share="${shareId}"]`));
    }

    async function changeRole(share, select) {
      select.disabled = true;
      try {
        const { data } = await api("POST", `/goals/${goal.id}/shares`, { body: { user: share.user.name, role: select.value } });
        await refresh(`${data.user.name} is now ${aRole(data.role)}.`);
      } catch (error) {
        await refresh(`The role of ${share.user.name} was not changed: ${describeError(error)}`);
      }
      list.querySelector(`[data-share="${share.id}"] select`)?.focus();
    }

    async function removeShare(share, button) {
      button.disabled = true;
      let message;
      try {
        await api("DELETE", `/goals/${goal.id}/shares/${share.id}`);
        message = `${share.user.name} no longer has ${quoted(goal.name)}.`;
      } catch (error) {
        message = error instanceof ApiError && error.status === 404 ? `${share.user.name} no longer had it.` : `${share.user.name} was not removed: ${describeError(error)}`;
      }
      await refresh(message);
      // Focus stays in the list: the next person's button, or the name field when it is empty.
      (list.querySelector("button") || user.input).focus();
    }

    form.addEventListener("submit", add);
    dialog.addEventListener("close", () => {
      dialog.remove();
      if (opener && opener.isConnected) opener.focus();
      resolve();
    });
    document.body.append(dialog);
    dialog.showModal();
    user.input.focus();
    refresh();
  });
}
