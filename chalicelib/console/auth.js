// Signing in. Tokens live in this module's memory only: never in storage, cookies or the URL.
// A reload or a closed tab means signing in again.
//
// Deployed stages: the Cognito user pool's hosted sign-in, authorisation code with PKCE (the app
// client is public: no secret in the browser). Only the PKCE verifier and the state survive the
// round trip, in sessionStorage, and are removed as soon as the code comes back.
// The local stage: a development sign-in that picks a role and a partner; the local run alone
// issues those tokens (POST console/dev-token), the deployed API has no such endpoint.

const PKCE_KEY = "polisregister.pkce";
const ROLE_ORDER = ["admin", "jsc", "partner"];

export const session = {
  config: null,
  token: null,
  role: null,
  partnerId: null,
  subject: null,
  expiresAt: 0,
};

export class ConfigUnavailable extends Error {}

export async function loadConfig() {
  let response;
  try {
    response = await fetch("console/config.json", { cache: "no-store", credentials: "omit" });
  } catch {
    throw new ConfigUnavailable("unreachable");
  }
  if (!response.ok) throw new ConfigUnavailable(String(response.status));
  session.config = await response.json();
  return session.config;
}

function base64UrlDecode(text) {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/").padEnd(Math.ceil(text.length / 4) * 4, "=");
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

function base64UrlEncode(bytes) {
  let binary = "";
  for (const byte of new Uint8Array(bytes)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The claims the console shows and routes on; the API verifies the token itself. */
export function claimsOf(token) {
  const claims = JSON.parse(base64UrlDecode(token.split(".")[1] || ""));
  const roles = claims.roles ?? claims["cognito:groups"] ?? [];
  const roleList = Array.isArray(roles) ? roles : [roles];
  return {
    role: ROLE_ORDER.find((role) => roleList.includes(role)) || null,
    partnerId: claims.partner_id ?? claims["custom:partner_id"] ?? null,
    subject: claims.email ?? claims.sub ?? "",
    expiresAt: Number(claims.exp || 0) * 1000,
  };
}

function start(token) {
  const claims = claimsOf(token);
  Object.assign(session, { token, ...claims });
  return claims;
}

export function signedIn() {
  return Boolean(session.token);
}

/** Forget the token (the page then shows the sign-in). */
export function forget() {
  Object.assign(session, { token: null, role: null, partnerId: null, subject: null, expiresAt: 0 });
}

export class SignInError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

/** The local stage: a development token for the chosen role (and partner). */
export async function developmentSignIn(role, partnerId, subject) {
  const body = { role, subject };
  if (role === "partner") body.partner_id = partnerId;
  let response;
  try {
    response = await fetch("console/dev-token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new SignInError("unreachable", "");
  }
  const data = await response.json().catch(() => null);
  if (!response.ok || !data || !data.token) {
    const error = (data && data.error) || {};
    throw new SignInError(error.code || "sign_in_failed", error.message || "");
  }
  return start(data.token);
}

/** Deployed stages: off to the hosted sign-in, with a fresh PKCE verifier and state. */
export async function cognitoSignIn() {
  const config = session.config;
  const verifier = base64UrlEncode(crypto.getRandomValues(new Uint8Array(48)));
  const state = base64UrlEncode(crypto.getRandomValues(new Uint8Array(24)));
  const challenge = base64UrlEncode(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier)),
  );
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const url = new URL(config.authorize_url);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: config.scope,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
  }).toString();
  window.location.assign(url.toString());
}

/** Back from the hosted sign-in: exchange the code for tokens. Returns false when the address
 *  carries no code. The code and state leave the address bar and history at once. */
export async function finishCognitoSignIn() {
  const params = new URLSearchParams(window.location.search);
  if (!params.has("code") && !params.has("error")) return false;
  history.replaceState(null, "", window.location.pathname);
  const saved = JSON.parse(sessionStorage.getItem(PKCE_KEY) || "null");
  sessionStorage.removeItem(PKCE_KEY);
  if (params.has("error")) throw new SignInError("sign_in_refused", "");
  if (!saved || saved.state !== params.get("state")) throw new SignInError("state_mismatch", "");
  const config = session.config;
  let response;
  try {
    response = await fetch(config.token_url, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        client_id: config.client_id,
        code: params.get("code"),
        redirect_uri: config.redirect_uri,
        code_verifier: saved.verifier,
      }).toString(),
      cache: "no-store",
      credentials: "omit",
    });
  } catch {
    throw new SignInError("unreachable", "");
  }
  const data = await response.json().catch(() => null);
  // The ID token carries the groups and the partner id (custom:partner_id); the API accepts it.
  if (!response.ok || !data || !data.id_token) throw new SignInError("sign_in_failed", "");
  start(data.id_token);
  return true;
}

/** Sign out: forget the token; on Cognito stages also end the hosted sign-in's session. */
export function signOut() {
  forget();
  const config = session.config;
  if (config && config.sign_in === "cognito") {
    const url = new URL(config.logout_url);
    url.search = new URLSearchParams({
      client_id: config.client_id,
      logout_uri: config.redirect_uri,
    }).toString();
    window.location.assign(url.toString());
    return true;
  }
  return false;
}
