/** The fetch wrapper every API call goes through: bearer token, one refresh-and-retry on 401, one error shape. */

import { networkError, toApiError } from "./errors";
import { accessToken, refreshSession, sessionLost } from "./session";

export interface RequestOptions {
  json?: unknown;
  form?: Record<string, string>;
  signal?: AbortSignal;
  auth?: boolean;
  headers?: Record<string, string>;
}

/** Send a request; on a 401 `not_authenticated` refresh once and retry; parse JSON (undefined for 204). */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const auth = options.auth ?? true;
  let response = await send(method, path, options, auth);
  if (auth && response.status === 401) {
    const error = await toApiError(response);
    if (error.code !== "not_authenticated") throw error;
    if (!(await refreshSession())) {
      sessionLost();
      throw error;
    }
    response = await send(method, path, options, auth);
  }
  if (!response.ok) throw await toApiError(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function send(method: string, path: string, options: RequestOptions, auth: boolean): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  let body: BodyInit | undefined;
  if (options.json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(options.json);
  } else if (options.form) {
    body = new URLSearchParams(options.form);
  }
  const token = accessToken();
  if (auth && token) headers.Authorization = `Bearer ${token}`;
  try {
    return await fetch(path, { method, headers, body, signal: options.signal, credentials: "same-origin" });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw networkError();
  }
}
