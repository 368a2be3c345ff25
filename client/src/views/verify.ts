/** The verification mail's link: post its token at once, and drop the token from the address bar. */

import { api } from "../api";
import { h, replace } from "../dom";
import { ApiError } from "../errors";
import { Feedback, field, onSubmit } from "../forms";
import type { ViewContext } from "../router";

export async function verifyView({ main, query, signal }: ViewContext): Promise<void> {
  const token = query.get("token");
  history.replaceState(null, "", "/verify");
  replace(main, h("h1", {}, "Verifying your email"), h("p", { role: "status" }, "One moment…"));
  let problem = "This link has no token. Use the link from the mail as it is.";
  if (token) {
    try {
      await api("POST", "/auth/verify", { auth: false, json: { token } });
      if (signal.aborted) return;
      replace(
        main,
        h("h1", {}, "Email verified"),
        h("p", {}, "Your address is confirmed. You can log in now."),
        h("p", {}, h("a", { href: "/login" }, "Log in")),
      );
      return;
    } catch (error) {
      problem = error instanceof ApiError ? error.text : "Something went wrong.";
    }
  }
  if (signal.aborted) return;
  replace(main, h("h1", {}, "Verification failed"), h("p", { class: "alert" }, problem), resendForm());
}

function resendForm(): HTMLElement {
  const email = field("Email", "email", { type: "email", autocomplete: "email" });
  const feedback = new Feedback([email]);
  const form = h(
    "form",
    { novalidate: true, class: "card" },
    h("h2", {}, "Get a new link"),
    feedback.alert,
    email.element,
    h("button", { type: "submit" }, "Send a new link"),
    feedback.status,
  );
  onSubmit(form, feedback, async () => {
    const answer = await api<{ detail: string }>("POST", "/auth/verify/resend", {
      auth: false,
      json: { email: email.input.value.trim() },
    });
    feedback.say(answer.detail || "If that address needs verifying, a new link is on its way.");
  });
  return form;
}
