/**
 * The browser session: the access token lives only in this module's memory; the refresh token is an HttpOnly
 * cookie the scripts never see. A reload gets a new access token by refreshing. Refresh tokens rotate and a
 * reused one ends the session, so every refresh, in every tab, runs under one Web Lock.
 */

import { ApiError, networkError, toApiError } from "./errors";

interface TokenAnswer {
  access_token: string;
  token_type: string;
  expires_in: number;
}

let token: string | null = null;
let refreshTimer: number | undefined;
let inflight: Promise<boolean> | null = null;
let onLost: () => void = () => undefined;

const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel("chorus") : null;
channel?.addEventListener("message", (event: MessageEvent<{ type?: string }>) => {
  if (event.data?.type === "logout") sessionLost();
});

export const accessToken = (): string | null => token;
export const isLoggedIn = (): boolean => token !== null;

/** What to do when the session is gone (logged out here or in another tab, or the refresh was refused). */
export function onSessionLost(callback: () => void): void {
  onLost = callback;
}

export function sessionLost(): void {
  forget();
  onLost();
}

function forget(): void {
  token = null;
  window.clearTimeout(refreshTimer);
}

function adopt(answer: TokenAnswer): void {
  token = answer.access_token;
  window.clearTimeout(refreshTimer);
  // A minute before it runs out, or halfway through a token that lives under two minutes.
  const delay = Math.max(answer.expires_in / 2, answer.expires_in - 60) * 1000;
  refreshTimer = window.setTimeout(() => void scheduledRefresh(), delay);
}

async function scheduledRefresh(): Promise<void> {
  try {
    if (!(await refreshSession())) sessionLost();
  } catch {
    refreshTimer = window.setTimeout(() => void scheduledRefresh(), 10_000);
  }
}

async function browserPost(path: string, form?: Record<string, string>): Promise<Response> {
  try {
    return await fetch(path, {
      method: "POST",
      headers: { "X-Chorus-Browser": "1", Accept: "application/json" },
      body: form ? new URLSearchParams(form) : undefined,
      credentials: "same-origin",
    });
  } catch {
    throw networkError();
  }
}

function exclusively<T>(work: () => Promise<T>): Promise<T> {
  if (navigator.locks) return navigator.locks.request("chorus-refresh", work) as Promise<T>;
  return work();
}

/**
 * Trade the cookie for a new access token: true if done, false if there is no session (401);
 * throws an ApiError for anything else (network, 429, 503). Calls in one tab share one request.
 */
export function refreshSession(): Promise<boolean> {
  inflight ??= exclusively(async () => {
    const response = await browserPost("/auth/browser/refresh");
    if (response.status === 401) {
      forget();
      return false;
    }
    if (!response.ok) throw await toApiError(response);
    adopt((await response.json()) as TokenAnswer);
    return true;
  }).finally(() => {
    inflight = null;
  });
  return inflight;
}

export async function logIn(email: string, password: string): Promise<void> {
  const response = await exclusively(() => browserPost("/auth/browser/login", { username: email, password }));
  if (!response.ok) throw await toApiError(response);
  adopt((await response.json()) as TokenAnswer);
}

/** End the session here and send every other tab to the login page. */
export async function logOut(): Promise<void> {
  try {
    await exclusively(() => browserPost("/auth/browser/logout"));
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
  }
  forget();
  channel?.postMessage({ type: "logout" });
}
