/** My profile: display name and bio; the email is shown, not editable here. */

import { api } from "../api";
import { forgetMe } from "../account";
import { h, replace } from "../dom";
import { Feedback, field, onSubmit } from "../forms";
import type { ViewContext } from "../router";
import type { Account } from "../types";

export async function profileView({ main, signal }: ViewContext): Promise<void> {
  replace(main, h("h1", {}, "Profile"), h("p", { role: "status" }, "Loading…"));
  let account: Account;
  try {
    account = await api<Account>("GET", "/accounts/me", { signal });
  } catch (error) {
    if (signal.aborted) return;
    const feedback = new Feedback([]);
    feedback.show(error);
    replace(main, h("h1", {}, "Profile"), feedback.alert);
    return;
  }
  const email = field("Email", "email", { type: "email", readonly: true, value: account.email });
  const name = field("Display name", "display_name", { autocomplete: "name", value: account.display_name });
  const bio = field("Bio", "bio", { rows: 4 }, true);
  bio.input.value = account.bio ?? "";
  const feedback = new Feedback([name, bio]);
  const form = h(
    "form",
    { novalidate: true, class: "card" },
    feedback.alert,
    email.element,
    name.element,
    bio.element,
    h("button", { type: "submit" }, "Save"),
    feedback.status,
  );
  onSubmit(form, feedback, async () => {
    const bioText = bio.input.value.trim();
    await api<Account>("PATCH", "/accounts/me", {
      json: { display_name: name.input.value.trim(), bio: bioText === "" ? null : bioText },
    });
    forgetMe();
    feedback.say("Saved");
  });
  replace(main, h("h1", {}, "Profile"), form);
}
