/** My account, asked once per session, and other people's names, asked once each. */

import { api } from "./api";
import type { Account, PublicProfile } from "./types";

let mine: Promise<Account> | null = null;
const names = new Map<string, Promise<string>>();

export function me(): Promise<Account> {
  mine ??= api<Account>("GET", "/accounts/me").catch((error: unknown) => {
    mine = null;
    throw error;
  });
  return mine;
}

export function forgetMe(): void {
  mine = null;
  names.clear();
}

export function rememberName(id: string, name: string): void {
  names.set(id, Promise.resolve(name));
}

/** Someone's display name (for authors who left the thread); "Someone" if it cannot be found. */
export function nameOf(id: string): Promise<string> {
  let name = names.get(id);
  if (!name) {
    name = api<PublicProfile>("GET", `/accounts/${encodeURIComponent(id)}`)
      .then((p) => p.display_name)
      .catch(() => "Someone");
    names.set(id, name);
  }
  return name;
}
