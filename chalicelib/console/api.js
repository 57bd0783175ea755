// The one way to the data: the JSON API of docs/openapi.json, from this origin.
import { forget, session } from "./auth.js";

export class ApiError extends Error {
  /** kind: "unreachable" (no answer), "signin" (token missing, expired or refused),
   *  "client" (4xx: the message says what to change), "server" (5xx). */
  constructor(kind, status, code, message, details) {
    super(message || code || kind);
    this.kind = kind;
    this.status = status;
    this.code = code || "";
    this.apiMessage = message || "";
    this.details = details || [];
  }
}

const SIGN_IN_AGAIN = new Set(["missing_token", "invalid_token", "token_expired"]);
let onSignInNeeded = () => {};

/** What to do when the API refuses the token: the page shows the sign-in again. */
export function whenSignInNeeded(callback) {
  onSignInNeeded = callback;
}

export async function call(method, path, { query, body } = {}) {
  const url = new URL(path, document.baseURI);
  for (const [name, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(name, value);
  }
  const headers = { Accept: "application/json" };
  if (session.token) headers.Authorization = `Bearer ${session.token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
      referrerPolicy: "no-referrer",
    });
  } catch {
    throw new ApiError("unreachable", 0, "unreachable", "");
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  const error = (data && data.error) || {};
  if (response.status === 401 || SIGN_IN_AGAIN.has(error.code)) {
    forget();
    const failure = new ApiError("signin", response.status, error.code, error.message);
    onSignInNeeded(failure);
    throw failure;
  }
  const kind = response.status >= 500 ? "server" : "client";
  throw new ApiError(kind, response.status, error.code, error.message, error.details);
}

export const get = (path, query) => call("GET", path, { query });
export const post = (path, body) => call("POST", path, { body: body ?? {} });
