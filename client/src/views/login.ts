/** Log in: the browser session endpoint sets the refresh cookie; then back to where the visitor came from. */

import { forgetMe } from "../account";
import { h, replace } from "../dom";
import { Feedback, field, onSubmit } from "../forms";
import { navigate, type ViewContext } from "../router";
import { logIn } from "../session";

export function loginView({ main, query }: ViewContext): void {
  const email = field("Email", "email", { type: "email", autocomplete: "username" });
  const password = field("Password", "password", { type: "password", autocomplete: "current-password" });
  const feedback = new Feedback([email, password], { username: "email" });
  const form = h(
    "form",
    { novalidate: true, class: "card" },
    feedback.alert,
    email.element,
    password.element,
    h("button", { type: "submit" }, "Log in"),
    feedback.status,
  );
  onSubmit(form, feedback, async () => {
    await logIn(email.input.value.trim(), password.input.value);
    forgetMe();
    navigate(safeNext(query.get("next")), { replace: true });
  });
  replace(
    main,
    h("h1", {}, "Log in"),
    form,
    h(
      "p",
      { class: "links" },
      h("a", { href: "/register" }, "Create an account"),
      h("a", { href: "/forgot-password" }, "Forgot password?"),
    ),
  );
}

/** Only a path on this site (not `//elsewhere`), so the login page cannot be made to send people away. */
function safeNext(next: string | null): string {
  return next && next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
}
