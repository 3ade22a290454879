// Sign up, sign in (a token from POST /tokens with HTTP Basic) and sign out (revoking that token).

import { ApiError, api, basicAuth, describeError } from "./api.js";
import { field, h } from "./dom.js";
import { session } from "./session.js";

/** Exchange credentials for a token and remember who signed in. */
export async function signIn(login, password) {
  const { data: token } = await api("POST", "/tokens", {
    auth: false,
    body: { name: "browser" },
    headers: { Authorization: basicAuth(login, password) },
  });
  const { data: user } = await api("GET", "/users/self", {
    auth: false,
    headers: { Authorization: `Bearer ${token.token}` },
  });
  session.save({ token: token.token, tokenId: token.id, user });
  return user;
}

/** Revoke the session's token (best effort: it may already be gone) and forget it. */
export async function signOut() {
  const { token, tokenId } = session;
  // Forget the session first, so answers to requests still in flight cannot resurrect it.
  session.clear();
  if (!token || !tokenId) return;
  try {
    await api("DELETE", `/tokens/${tokenId}`, { auth: false, headers: { Authorization: `Bearer ${token}` } });
  } catch {
    // An expired or revoked token is signed out already.
  }
}

function authCard(title, form, footer) {
  return h(
    "section",
    { class: "card auth", "aria-labelledby": "auth-title" },
    h("h1", { id: "auth-title" }, title),
    h("p", { class: "lead" }, "Goals that nest as deep as your ambitions."),
    form,
    h("p", { class: "switch" }, footer),
  );
}

function signInError(error) {
  if (error instanceof ApiError && error.status === 401) return "Wrong name, e-mail or password.";
  return describeError(error);
}

/** The sign-in page. */
export function renderSignIn(main, { onSignedIn }) {
  const login = field("Name or e-mail", { name: "username", required: true, autocomplete: "username", maxlength: 254 });
  const password = field("Password", { name: "password", required: true, autocomplete: "current-password" }, { kind: "password" });
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button primary wide" }, "Sign in");
  const form = h("form", { class: "stack" }, login.wrap, password.wrap, error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      await signIn(login.input.value.trim(), password.input.value);
      onSignedIn();
    } catch (e) {
      error.textContent = signInError(e);
      password.input.select();
    } finally {
      submit.disabled = false;
    }
  });
  main.replaceChildren(authCard("Sign in", form, ["New here? ", h("a", { href: "#/signup" }, "Create an account")]));
  login.input.focus();
}

/** The sign-up page; a new account is signed in at once. */
export function renderSignUp(main, { onSignedIn }) {
  const name = field("Name", { name: "username", required: true, autocomplete: "username", maxlength: 64 }, { hint: "How you sign in; spaces are fine, @ is not." });
  const email = field("E-mail", { name: "email", required: true, autocomplete: "email", maxlength: 254 }, { kind: "email" });
  const password = field(
    "Password",
    { name: "password", required: true, autocomplete: "new-password", minlength: 8, maxlength: 1024 },
    { kind: "password", hint: "At least 8 characters." },
  );
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: "button primary wide" }, "Create account");
  const form = h("form", { class: "stack" }, name.wrap, email.wrap, password.wrap, error, submit);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      await api("POST", "/users", {
        auth: false,
        body: { name: name.input.value, email: email.input.value, password: password.input.value },
      });
      await signIn(name.input.value.trim(), password.input.value);
      onSignedIn();
    } catch (e) {
      error.textContent = describeError(e);
    } finally {
      submit.disabled = false;
    }
  });
  main.replaceChildren(authCard("Create an account", form, ["Have an account? ", h("a", { href: "#/signin" }, "Sign in")]));
  name.input.focus();
}
