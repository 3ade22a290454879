// The signed-in session: a bearer token kept in sessionStorage (gone when the tab closes).

const KEY = "overachiever.session";

function read() {
  try {
    return JSON.parse(sessionStorage.getItem(KEY) || "null");
  } catch {
    return null;
  }
}

export const session = {
  /** The bearer token, or null when signed out. */
  get token() {
    return read()?.token || null;
  },
  /** The id of the token, used to revoke it on sign-out. */
  get tokenId() {
    return read()?.tokenId || null;
  },
  /** The signed-in user ({id, name, email, is_admin}), or null. */
  get user() {
    return read()?.user || null;
  },
  /** Keep a new session (or update its user). */
  save(data) {
    sessionStorage.setItem(KEY, JSON.stringify({ ...read(), ...data }));
  },
  /** Forget the session. */
  clear() {
    sessionStorage.removeItem(KEY);
  },
};
