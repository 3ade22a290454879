// The v2 API client: JSON in and out, RFC 9457 problems turned into ApiError, and messages in words.

import { session } from "./session.js";

const BASE = "/api/v2";
let onSessionEnded = () => {};

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
 */
export async function api(method, path, { body, headers = {}, auth = true } = {}) {
  const init = {
    method,
    credentials: "omit",
    cache: "no-store",
    headers: { Accept: "application/json, application/problem+json", ...headers },
  };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const token = auth ? session.token : null;
  if (token && !init.headers.Authorization) init.headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, { title: "Network error", detail: "the server could not be reached" });
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = { title: response.statusText, detail: text.slice(0, 200) };
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data || { title: response.statusText }, response.headers);
    // Only the current session can end: a request still in flight at sign-out may get a 401.
    if (response.status === 401 && token && token === session.token) onSessionEnded(error);
    throw error;
  }
  return { data, etag: response.headers.get("ETag"), headers: response.headers };
}

function sentence(text) {
  const s = String(text || "").trim();
  if (!s) return "";
  return s[0].toUpperCase() + s.slice(1) + (/[.!?]$/.test(s) ? "" : ".");
}

const FIELD_NAMES = { name: "Name", email: "E-mail", password: "Password", description: "Description", due: "Due date", end: "Completion", parent_id: "Parent" };

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
    case 403:
      return sentence(p.detail) || "You are not allowed to do that.";
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
