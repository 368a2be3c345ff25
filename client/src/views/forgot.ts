/** Ask for a password reset mail; the answer never says whether the address has an account. */

import { api } from "../api";
import { h, replace } from "../dom";
import { Feedback, field, onSubmit } from "../forms";
import type { ViewContext } from "../router";

export function forgotView({ main }: ViewContext): void {
  const email = field("Email", "email", { type: "email", autocomplete: "email" });
  const feedback = new Feedback([email]);
  const form = h(
    "form",
    { novalidate: true, class: "card" },
    feedback.alert,
    email.element,
    h("button", { type: "submit" }, "Send reset link"),
    feedback.status,
  );
  onSubmit(form, feedback, async () => {
    await api("POST", "/auth/password/forgot", { auth: false, json: { email: email.input.value.trim() } });
    feedback.say("If an account uses that address, a mail is on its way.");
  });
  replace(
    main,
    h("h1", {}, "Forgot password"),
    h("p", {}, "We will mail you a link to choose a new password."),
    form,
    h("p", { class: "links" }, h("a", { href: "/login" }, "Back to log in")),
  );
}
