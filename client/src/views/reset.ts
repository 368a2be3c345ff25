/** The reset mail's link: the token leaves the address bar at once and stays only in memory. */

import { api } from "../api";
import { h, replace } from "../dom";
import { Feedback, field, onSubmit } from "../forms";
import type { ViewContext } from "../router";

export function resetView({ main, query }: ViewContext): void {
  const token = query.get("token");
  history.replaceState(null, "", "/reset-password");
  const password = field("New password", "new_password", { type: "password", autocomplete: "new-password" });
  const feedback = new Feedback([password]);
  const form = h(
    "form",
    { novalidate: true, class: "card" },
    feedback.alert,
    password.element,
    h("button", { type: "submit" }, "Set new password"),
    feedback.status,
  );
  onSubmit(form, feedback, async () => {
    if (!token) throw new Error("This link has no token. Use the link from the mail as it is, or ask for a new one.");
    await api("POST", "/auth/password/reset", { auth: false, json: { token, new_password: password.input.value } });
    replace(
      main,
      h("h1", {}, "Password changed"),
      h("p", {}, "Every session of your account has ended. Log in with the new password."),
      h("p", {}, h("a", { href: "/login" }, "Log in")),
    );
    main.querySelector("h1")?.focus();
  });
  replace(
    main,
    h("h1", {}, "Choose a new password"),
    h("p", { class: "hint" }, "At least 12 characters."),
    form,
    h("p", { class: "links" }, h("a", { href: "/forgot-password" }, "Ask for a new link")),
  );
}
