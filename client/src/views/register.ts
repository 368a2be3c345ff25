/** Create an account; the API mails a verification link. */

import { api } from "../api";
import { h, replace } from "../dom";
import { Feedback, field, onSubmit } from "../forms";
import type { ViewContext } from "../router";

export function registerView({ main }: ViewContext): void {
  const name = field("Display name", "display_name", { autocomplete: "name" });
  const email = field("Email", "email", { type: "email", autocomplete: "email" });
  const password = field("Password", "password", { type: "password", autocomplete: "new-password" });
  const hint = h("p", { class: "hint", id: "password-hint" }, "At least 12 characters.");
  password.element.insertBefore(hint, password.error);
  const feedback = new Feedback([name, email, password], { email_taken: "email" });
  const form = h(
    "form",
    { novalidate: true, class: "card" },
    feedback.alert,
    name.element,
    email.element,
    password.element,
    h("button", { type: "submit" }, "Create account"),
    feedback.status,
  );
  onSubmit(form, feedback, async () => {
    const address = email.input.value.trim();
    await api("POST", "/auth/register", {
      auth: false,
      json: { display_name: name.input.value.trim(), email: address, password: password.input.value },
    });
    form.reset();
    feedback.say(`Check your mail: we sent a link to ${address} to verify it.`);
  });
  replace(
    main,
    h("h1", {}, "Create an account"),
    form,
    h("p", { class: "links" }, "Already have one? ", h("a", { href: "/login" }, "Log in")),
  );
}
