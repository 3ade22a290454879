// The v2 API client: JSON in and out, RFC 9457 problems turned into ApiError, and messages in words.

import { nameList } from "./dom.js";
import { session } from "./session.js";

const BASE = "/api/v2";
let onSessionEnded = () => {};

const WRITES = new Set(["POST", "PUT", "PATCH", "DELETE"]);
// The Idempotency-Key of each write not yet answered for sure, by the request it sends: the
// same write sent again (a double click, a retry after a lost answer) reuses the key, so the
// server does it once and answers both alike. A definitive answer (2xx, 4xx) retires the key.
const openKeys = new Map();
// A write whose first sending still runs on the server is asked again this often, this far apart.
const IN_FLIGHT_TRIES = 20;
const IN_FLIGHT_WAIT_MS = 250;
const IN_FLIGHT = "urn:overachiever:problem:idempotency-key-in-flight";

/** A random (version 4) UUID; by hand where randomUUID is missing (plain HTTP, not localhost). */
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const hex = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const pause = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** An error answered by the API (status 0: the server could not be reached). */
export class ApiError extends Error {
  constructor(status, problem, headers = null) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
    this.type = problem.type || "";
    this.retryAfter = headers ? Number(headers.get("Retry-After")) || null : null;
  }
}

/** Called when a request with our token gets a 401 (the token expired or was revoked). */
export function whenSessionEnds(callback) {
  onSessionEnded = callback;
}

/** Encode name:password for HTTP Basic as UTF-8 (btoa alone takes only Latin-1). */
export function basicAuth(login, password) {
  const bytes = new TextEncoder().encode(`${login}:${password}`);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/**
 * Call the API; resolves to {data, etag, headers} or throws ApiError.
 * credentials: "omit" keeps cookies out and stops the browser's own sign-in prompt on a 401.
 * raw: {text, type} sends a document of that media type instead of a JSON body.
 */
export async function api(method, path, { body, raw, headers = {}, auth = true } = {}) {
  const init = {
    method,
    credentials: "omit",
    cache: "no-store",
    headers: { Accept: "application/json, application/problem+json", ...headers },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  } else if (raw !== undefined) {
    init.headers["Content-Type"] = raw.type;
    init.body = raw.text;
  }
  const token = auth ? session.token : null;
  if (token && !init.headers.Authorization) init.headers.Authorization = `Bearer ${token}`;
  let write = null;
  if (token && WRITES.has(method)) {
    write = JSON.stringify([init.headers.Authorization, method, path, init.body ?? null, init.headers["If-Match"] ?? null]);
    if (!openKeys.has(write)) openKeys.set(write, newKey());
    init.headers["Idempotency-Key"] = openKeys.get(write);
  }
  let response;
  let data = null;
  for (let tries = 1; ; tries += 1) {
    try {
      response = await fetch(BASE + path, init);
    } catch {
      // No answer: the key stays open, so trying again cannot do the change twice.
      throw new ApiError(0, { title: "Network error", detail: "the server could not be reached" });
    }
    const text = await response.text();
    data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { title: response.statusText, detail: text.slice(0, 200) };
      }
    }
    const inFlight = response.status === 409 && data && data.type === IN_FLIGHT;
    if (!inFlight || tries >= IN_FLIGHT_TRIES) break;
    await pause(IN_FLIGHT_WAIT_MS); // the same write, sent before: wait for its answer
  }
  const definitive = response.status < 500 && response.status !== 429 && !(data && data.type === IN_FLIGHT);
  if (write && definitive) openKeys.delete(write);
  if (!response.ok) {
    const error = new ApiError(response.status, data || { title: response.statusText }, response.headers);
    // Only the current session can end: a request still in flight at sign-out may get a 401.
    if (response.status === 401 && token && token === session.token) onSessionEnded(error);
    throw error;
  }
  return { data, etag: response.headers.get("ETag"), headers: response.headers };
}

/** The file name a Content-Disposition header gives (RFC 6266), or `fallback`. */
export function dispositionFilename(header, fallback = "download") {
  const text = header || "";
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(text);
  if (extended) {
    try {
      return decodeURIComponent(extended[1].trim());
    } catch {
      // a malformed escape: fall back to the plain parameter
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(text);
  if (plain) return (plain[1] ?? plain[2]).replace(/\\(.)/g, "$1");
  return fallback;
}

/**
 * Download a document from the API with the session's token; resolves to {blob, filename}
 * (the name the server's Content-Disposition gives) or throws ApiError, like api().
 */
export async function download(path) {
  const token = session.token;
  const init = { credentials: "omit", cache: "no-store", headers: {} };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  let response;
  let blob = null;
  try {
    response = await fetch(BASE + path, init);
    if (response.ok) blob = await response.blob();
  } catch {
    throw new ApiError(0, { title: "Network error", detail: "the download did not complete" });
  }
  if (!response.ok) {
    const text = await response.text();
    let data;
    try {
      data = JSON.parse(text);
    } catch {
      data = { title: response.statusText, detail: text.slice(0, 200) };
    }
    const error = new ApiError(response.status, data, response.headers);
    if (response.status === 401 && token && token === session.token) onSessionEnded(error);
    throw error;
  }
  return { blob, filename: dispositionFilename(response.headers.get("Content-Disposition")) };
}

/** Text as a sentence: a capital first, a full stop last. */
export function sentence(text) {
  const s = String(text || "").trim();
  if (!s) return "";
  return s[0].toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".");
}

const FIELD_NAMES = { name: "Name", email: "E-mail", password: "Password", description: "Description", due: "Due date", end: "Completion", parent_id: "Parent", as_of: "Date and time", user: "Name or e-mail", role: "Role" };

/**
 * Words for the person: what went wrong and what to do, for any error a call can throw.
 * goalName(id), when given, names the goals the API refers to by id ("under goal 7").
 */
export function describeError(error, goalName = null) {
  if (!(error instanceof ApiError)) return `Something went wrong in this page: ${error.message || error}.`;
  const p = error.problem || {};
  switch (error.status) {
    case 0:
      return "The server could not be reached. Check that it is running, then try again.";
    case 401:
      return "Your session has ended. Please sign in again.";
    case 403: {
      // "you may view goal 3, not change it": the goal by its name when the page knows it.
      const detail = String(p.detail || "").replace(/\bgoal (\d+)/g, (text, id) => {
        const name = goalName ? goalName(Number(id)) : null;
        return name ? `\u201c${name}\u201d` : text;
      });
      return sentence(detail) || "You are not allowed to do that.";
    }
    case 404:
      return "That item no longer exists; it may have been deleted in another window. The page has been refreshed.";
    case 409:
      if (error.type.endsWith(":cycle")) {
        return "That move is not possible: a goal cannot be moved under itself or one of its own sub-goals.";
      }
      if (error.type.endsWith(":name-conflict")) {
        const detail = String(p.detail || "").replace(/under goal (\d+)/, (text, id) => {
          const name = goalName ? goalName(Number(id)) : null;
          return name ? `under \u201c${name}\u201d` : text;
        });
        return `That name is already taken: ${sentence(detail)} Choose another name.`;
      }
      if (error.type.endsWith(":open-descendants")) {
        const id = Number((String(p.detail || "").match(/goal (\d+)/) || [])[1]);
        const name = goalName && id ? goalName(id) : null;
        const who = name ? `\u201c${name}\u201d` : "That goal";
        const open = Array.isArray(p.open) ? p.open : [];
        const still = open.length ? ` Still open: ${nameList(open, goalName)}.` : "";
        return `${who} is strict: it cannot be completed while a sub-goal is open.${still} Complete those first, or change its rule.`;
      }
      return sentence(p.detail) || "That change conflicts with the current state.";
    case 412:
      return "This goal was changed somewhere else after you opened it, so your change was not saved. The latest version is shown now; please make your change again.";
    case 413:
      return "That is more than the server accepts in one request.";
    case 422: {
      const errors = Array.isArray(p.errors) ? p.errors : [];
      if (!errors.length) return sentence(p.detail) || "Some of the input is not valid.";
      const parts = errors.slice(0, 4).map((e) => {
        const loc = (e.loc || []).filter((part) => part !== "body");
        const name = FIELD_NAMES[loc[loc.length - 1]] || loc.join(".");
        return name ? `${name}: ${e.msg}` : e.msg;
      });
      return `Please check your input. ${parts.join("; ")}.`;
    }
    case 429: {
      const wait = error.retryAfter ? ` Wait ${error.retryAfter} second${error.retryAfter === 1 ? "" : "s"}` : " Wait a minute";
      return `Too many attempts in a short time.${wait} and try again.`;
    }
    default:
      if (error.status >= 500) {
        const id = p.request_id ? ` (request id ${p.request_id})` : "";
        return `The server failed to handle that${id}. Please try again later.`;
      }
      return sentence(p.detail || p.title) || `The request failed (HTTP ${error.status}).`;
  }
}
