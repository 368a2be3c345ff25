/** The page frame: a skip link, the top bar (nav and Log out when logged in), and the main region. */

import { forgetMe } from "./account";
import { h, replace } from "./dom";
import { navigate } from "./router";
import { isLoggedIn, logOut } from "./session";

export function layout(): HTMLElement {
  const main = h("main", { id: "main", class: "page" });
  const bar = h("header", { class: "topbar" }, h("a", { href: "/", class: "brand" }, "chorus"));
  if (isLoggedIn()) {
    const here = location.pathname;
    const link = (href: string, text: string, active: boolean) =>
      h("a", { href, "aria-current": active ? "page" : null }, text);
    const button = h("button", { type: "button", class: "quiet", onclick: () => void leave(button) }, "Log out");
    bar.append(
      h(
        "nav",
        { "aria-label": "Main" },
        link("/", "Threads", here === "/" || here.startsWith("/t/")),
        link("/profile", "Profile", here === "/profile"),
      ),
      button,
    );
  }
  replace(document.body, h("a", { href: "#main", class: "skip" }, "Skip to content"), bar, main);
  return main;
}

async function leave(button: HTMLButtonElement): Promise<void> {
  button.disabled = true;
  await logOut().catch(() => undefined);
  forgetMe();
  navigate("/login");
}
