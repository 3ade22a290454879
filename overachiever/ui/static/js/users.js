// The administrators' users page: list, search, create, edit, delete, grant or revoke admin rights.

import { api, describeError } from "./api.js";
import { confirmDialog, openDialog } from "./dialogs.js";
import { field, formatDate, h, quoted } from "./dom.js";
import { showError, showInfo } from "./notify.js";
import { session } from "./session.js";

const LIMIT = 50;

/** Render the users page into `main`; `onSelfChanged` runs when the admin changes their own account. */
export async function renderUsers(main, { onSelfChanged }) {
  let offset = 0;
  let query = "";
  const summary = h("p", { class: "summary", "aria-live": "polite" });
  const body = h("div", { class: "users-body" });
  const pager = h("div", { class: "pager" });

  // -- the form for a new account
  const name = field("Name", { name: "name", required: true, maxlength: 64, autocomplete: "off" });
  const email = field("E-mail", { name: "email", required: true, maxlength: 254, autocomplete: "off" }, { kind: "email" });
  const password = field("Password", { name: "password", required: true, minlength: 8, maxlength: 1024, autocomplete: "new-password" }, { kind: "password", hint: "At least 8 characters." });
  const admin = field("Administrator", { name: "is_admin" }, { kind: "checkbox" });
  const createError = h("p", { class: "form-error", role: "alert" });
  const createForm = h(
    "form",
    { class: "card create-user", "aria-labelledby": "create-user-title" },
    h("h2", { id: "create-user-title" }, "Add a user"),
    h("div", { class: "grid-fields" }, name.wrap, email.wrap, password.wrap, admin.wrap),
    createError,
    h("button", { type: "submit", class: "button primary" }, "Add user"),
  );
  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    createError.textContent = "";
    try {
      const { data: user } = await api("POST", "/users", {
        body: { name: name.input.value, email: email.input.value, password: password.input.value },
      });
      const asAdmin = admin.input.checked;
      if (asAdmin) await api("PATCH", `/users/${user.id}`, { body: { is_admin: true } });
      createForm.reset();
      showInfo(`Added ${quoted(user.name)}${asAdmin ? " as an administrator" : ""}.`);
    } catch (error) {
      createError.textContent = describeError(error);
      return;
    }
    await refresh();
  });

  const search = h("input", { id: "user-search", type: "search", maxlength: 200, autocomplete: "off", placeholder: "Name or e-mail" });
  let timer;
  search.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      query = search.value.trim();
      offset = 0;
      refresh();
    }, 250);
  });

  main.replaceChildren(
    h(
      "section",
      { class: "users", "aria-labelledby": "users-title" },
      h("div", { class: "view-head" }, h("h1", { id: "users-title" }, "Users"), summary),
      createForm,
      h("div", { class: "toolbar", role: "search", "aria-label": "Find users" }, h("div", { class: "field" }, h("label", { for: "user-search" }, "Search users"), search)),
      body,
      pager,
    ),
  );

  async function refresh(focusSelector = null) {
    let page;
    try {
      const params = new URLSearchParams({ offset: String(offset), limit: String(LIMIT) });
      if (query) params.set("q", query);
      ({ data: page } = await api("GET", `/users?${params}`));
    } catch (error) {
      if (error.status === 403) {
        body.replaceChildren(h("p", { class: "empty" }, "Only administrators can manage users."));
        createForm.remove();
        return;
      }
      showError(error);
      return;
    }
    const many = page.total !== 1;
    summary.textContent = `${page.total} account${many ? "s" : ""}${query ? ` ${many ? "match" : "matches"} ${quoted(query)}` : ""}.`;
    const me = session.user?.id;
    const rows = page.items.map((user) => {
      const adminBox = h("input", {
        type: "checkbox",
        checked: user.is_admin,
        "aria-label": `Administrator: ${user.name}`,
        onchange: (e) => setAdmin(user, e.target),
      });
      return h(
        "tr",
        { dataset: { id: String(user.id) } },
        h("th", { scope: "row" }, user.name, user.id === me ? h("span", { class: "badge" }, "you") : null),
        h("td", {}, user.email),
        h("td", { class: "center" }, adminBox),
        h("td", {}, formatDate(user.created_at)),
        h(
          "td",
          { class: "row-actions" },
          h("button", { type: "button", class: "button small", "aria-label": `Edit ${user.name}`, dataset: { action: "edit" }, onclick: () => edit(user) }, "Edit"),
          h("button", { type: "button", class: "button small danger-ghost", "aria-label": `Delete ${user.name}`, dataset: { action: "delete" }, onclick: () => remove(user) }, "Delete"),
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
        h("caption", { class: "visually-hidden" }, "User accounts"),
        h("thead", {}, h("tr", {}, ["Name", "E-mail", "Administrator", "Created", h("span", { class: "visually-hidden" }, "Actions")].map((t) => h("th", { scope: "col" }, t)))),
        h("tbody", {}, rows),
        ),
      ),
    );
    const last = Math.min(offset + LIMIT, page.total);
    pager.replaceChildren(
      h("button", { type: "button", class: "button small", disabled: offset === 0, onclick: () => { offset = Math.max(0, offset - LIMIT); refresh(); } }, "Previous"),
      h("span", {}, page.total ? `${offset + 1}–${last} of ${page.total}` : ""),
      h("button", { type: "button", class: "button small", disabled: last >= page.total, onclick: () => { offset += LIMIT; refresh(); } }, "Next"),
    );
    if (focusSelector) body.querySelector(focusSelector)?.focus();
  }

  async function setAdmin(user, box) {
    box.disabled = true;
    try {
      await api("PATCH", `/users/${user.id}`, { body: { is_admin: box.checked } });
      showInfo(box.checked ? `${quoted(user.name)} is now an administrator.` : `${quoted(user.name)} is no longer an administrator.`);
      if (user.id === session.user?.id) {
        await onSelfChanged();
        if (!box.checked) return;
      }
    } catch (error) {
      showError(error);
    }
    await refresh(`tr[data-id="${user.id}"] input[type="checkbox"]`);
  }

  async function edit(user) {
    const editName = field("Name", { name: "name", required: true, maxlength: 64, value: user.name, autocomplete: "off" });
    const editEmail = field("E-mail", { name: "email", required: true, maxlength: 254, value: user.email, autocomplete: "off" }, { kind: "email" });
    const editPassword = field("New password", { name: "password", minlength: 8, maxlength: 1024, autocomplete: "new-password" }, { kind: "password", hint: "Leave empty to keep the current password." });
    // Your own password is changed with the current one, administrator or not.
    const own = user.id === session.user?.id;
    const editCurrent = own
      ? field("Current password", { name: "current_password", maxlength: 1024, autocomplete: "current-password" }, { kind: "password", hint: "Needed only to set a new password." })
      : null;
    const saved = await openDialog({
      title: `Edit ${quoted(user.name)}`,
      body: [editName.wrap, editEmail.wrap, editPassword.wrap, ...(editCurrent ? [editCurrent.wrap] : [])],
      submitLabel: "Save",
      onSubmit: async () => {
        const changes = {};
        if (editName.input.value.trim() !== user.name) changes.name = editName.input.value;
        if (editEmail.input.value.trim().toLowerCase() !== user.email) changes.email = editEmail.input.value;
        if (editPassword.input.value) {
          changes.password = editPassword.input.value;
          if (editCurrent) changes.current_password = editCurrent.input.value;
        }
        if (!Object.keys(changes).length) return user;
        const { data } = await api("PATCH", `/users/${user.id}`, { body: changes });
        return data;
      },
    });
    if (!saved) return;
    // A new password signs the account out everywhere else.
    const ended = saved.tokens_revoked ? ` ${saved.tokens_revoked} other sign-in${saved.tokens_revoked === 1 ? "" : "s"} ended.` : "";
    showInfo(`Saved ${quoted(saved.name)}.${ended}`);
    if (saved.id === session.user?.id) await onSelfChanged();
    await refresh(`tr[data-id="${user.id}"] [data-action="edit"]`);
  }

  async function remove(user) {
    const self = user.id === session.user?.id;
    const sure = await confirmDialog({
      title: `Delete ${quoted(user.name)}?`,
      message: `${self ? "Your own account" : "The account"}, with all its goals and tokens, will be deleted for good.`,
      confirmLabel: "Delete user",
    });
    if (!sure) return;
    try {
      await api("DELETE", `/users/${user.id}`);
    } catch (error) {
      showError(error);
      await refresh();
      return;
    }
    showInfo(`Deleted ${quoted(user.name)}.`);
    if (self) {
      await onSelfChanged();
      return;
    }
    await refresh();
    search.focus();
  }

  await refresh();
}
