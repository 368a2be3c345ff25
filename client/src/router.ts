/** History-API routing: real links, intercepted; each view gets a signal that aborts when it is left. */

import { h, replace } from "./dom";
import { isLoggedIn } from "./session";

export interface ViewContext {
  main: HTMLElement;
  params: Record<string, string>;
  query: URLSearchParams;
  signal: AbortSignal;
}

export type View = (context: ViewContext) => void | Promise<void>;

interface Route {
  pattern: RegExp;
  view: View;
  needsLogin: boolean;
}

const routes: Route[] = [];
let current: AbortController | null = null;
let frame: (signal: AbortSignal) => HTMLElement = () => document.body;

export function route(path: string, view: View, needsLogin: boolean): void {
  const pattern = new RegExp(`^${path.replace(/:(\w+)/g, "(?<$1>[^/]+)")}$`);
  routes.push({ pattern, view, needsLogin });
}

/** `layout` builds the page around the view and returns the element the view fills. */
export function startRouter(layout: (signal: AbortSignal) => HTMLElement): void {
  frame = layout;
  document.addEventListener("click", interceptLink);
  window.addEventListener("popstate", () => void render());
  void render();
}

export function navigate(path: string, options: { replace?: boolean } = {}): void {
  if (options.replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  void render();
}

/** Where a page that needs a login sends a visitor: /login, remembering the page. */
export function loginPath(): string {
  const here = location.pathname + location.search;
  return here === "/" ? "/login" : `/login?next=${encodeURIComponent(here)}`;
}

function interceptLink(event: MouseEvent): void {
  if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey)
    return;
  const link = (event.target as Element | null)?.closest("a");
  if (!link || link.target || link.hasAttribute("download")) return;
  const url = new URL(link.href, location.href);
  if (url.origin !== location.origin) return;
  event.preventDefault();
  navigate(url.pathname + url.search);
}

async function render(): Promise<void> {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const path = location.pathname;
  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  if (match?.r.needsLogin && !isLoggedIn()) return navigate(loginPath(), { replace: true });
  const main = frame(controller.signal);
  const context = { main, params: { ...match?.m?.groups }, query: new URLSearchParams(location.search), signal: controller.signal };
  if (!match) {
    replace(main, h("h1", { tabindex: -1 }, "Page not found"), h("p", {}, h("a", { href: "/" }, "Go to your threads")));
  } else {
    await match.r.view(context);
  }
  if (controller.signal.aborted) return;
  const heading = main.querySelector("h1");
  if (heading) {
    document.title = `${heading.textContent ?? ""} · chorus`;
    heading.tabIndex = -1;
    if (!document.activeElement || document.activeElement === document.body) heading.focus({ preventScroll: true });
  }
}
