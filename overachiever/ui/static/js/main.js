// Start-up and routing: hash routes (#/goals, #/shared, #/shared/<id>, #/history, #/as-of,
// #/progress, #/trash, #/calendar, #/users, #/signin, #/signup) over one page.

import { api, whenSessionEnds } from "./api.js";
import { renderAsOf } from "./asof.js";
import { renderProgress } from "./burnup.js";
import { renderSignIn, renderSignUp, signOut } from "./auth.js";
import { renderCalendar } from "./calendar.js";
import { h } from "./dom.js";
import { renderGoals } from "./forest.js";
import { renderHistory } from "./history.js";
import { clearNotices, showError, showInfo } from "./notify.js";
import { session } from "./session.js";
import { renderShared } from "./shared.js";
import { renderTrash } from "./trash.js";
import { renderUsers } from "./users.js";

const main = document.getElementById("main");
const TITLES = {
  goals: "Goals",
  shared: "Shared with me",
  history: "History",
  "as-of": "As it was",
  progress: "Progress",
  trash: "Trash",
  calendar: "Calendar feeds",
  users: "Users",
  signin: "Sign in",
  signup: "Create an account",
};
const PUBLIC = new Set(["signin", "signup"]);
let rendering = 0;
let afterRender = null;
let firstRender = true;

function currentRoute() {
  return location.hash.replace(/^#\/?/, "").split(/[/?]/)[0] || "goals";
}

/** Show a route; `then` runs once it is rendered (after the notices of the old page are cleared). */
function go(route, then = null) {
  afterRender = then;
  if (currentRoute() === route) show();
  else location.hash = `#/${route}`;
}

function updateHeader(route) {
  const user = session.user;
  document.getElementById("nav").hidden = !user;
  document.getElementById("account").hidden = !user;
  document.getElementById("nav-users").hidden = !user?.is_admin;
  document.getElementById("whoami").textContent = user ? `Signed in as ${user.name}` : "";
  for (const link of document.querySelectorAll("#nav a")) {
    if (link.dataset.route === route) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
}

/** Re-read the signed-in user (after they changed their own account) and re-route. */
async function refreshSelf() {
  try {
    const { data } = await api("GET", "/users/self");
    session.save({ user: data });
  } catch {
    // A 401 has already ended the session.
    return;
  }
  updateHeader(currentRoute());
  if (!session.user?.is_admin && currentRoute() === "users") go("goals");
}

async function show() {
  const ticket = ++rendering;
  let route = currentRoute();
  const signedIn = Boolean(session.token);
  if (!signedIn && !PUBLIC.has(route)) {
    history.replaceState(null, "", "#/signin");
    route = "signin";
  } else if (signedIn && PUBLIC.has(route)) {
    history.replaceState(null, "", "#/goals");
    route = "goals";
  }
  updateHeader(route);
  document.title = `${TITLES[route] || "Not found"} · Over Achiever`;
  const onSignedIn = () => {
    clearNotices();
    go("goals");
  };
  main.replaceChildren();
  try {
    if (route === "signin") renderSignIn(main, { onSignedIn });
    else if (route === "signup") renderSignUp(main, { onSignedIn });
    else if (route === "goals") await renderGoals(main);
    else if (route === "shared") await renderShared(main);
    else if (route === "history") await renderHistory(main);
    else if (route === "as-of") await renderAsOf(main);
    else if (route === "progress") await renderProgress(main);
    else if (route === "trash") await renderTrash(main);
    else if (route === "calendar") await renderCalendar(main);
    else if (route === "users") await renderUsers(main, { onSelfChanged: refreshSelf });
    else main.append(h("h1", {}, "Page not found"), h("p", {}, h("a", { href: "#/goals" }, "Go to your goals")));
  } catch (error) {
    showError(error);
  }
  if (ticket !== rendering) return;
  const then = afterRender;
  afterRender = null;
  if (then) then();
  // On a change of page, move focus to the new heading unless the page put it somewhere on
  // purpose; on the first load the browser's own start (with the skip link first) is kept.
  const first = firstRender;
  firstRender = false;
  if (!first && !main.contains(document.activeElement)) {
    const heading = main.querySelector("h1");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }
}

whenSessionEnds(() => {
  session.clear();
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  clearNotices();
  go("signin", () => showError("Your session has ended. Please sign in again."));
});

document.getElementById("sign-out").addEventListener("click", async () => {
  await signOut();
  clearNotices();
  const done = () => showInfo("You have signed out.");
  // Already on the sign-in page (reached meanwhile): keep what may be typed there.
  if (currentRoute() === "signin") done();
  else go("signin", done);
});

window.addEventListener("hashchange", () => {
  clearNotices();
  show();
});

// The skip link jumps to the content without touching the hash, which names the page.
document.querySelector(".skip-link").addEventListener("click", (event) => {
  event.preventDefault();
  main.focus();
});

async function start() {
  // The stored user may be stale (an administrator may have changed it): read it again.
  if (session.token) {
    await refreshSelf();
    if (!session.token) return; // the session had ended: already on its way to sign-in
  }
  show();
}

start();
