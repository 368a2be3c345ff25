/** The message composer: Enter sends, Shift+Enter is a new line; disabled while sending; errors beside it. */

import { api } from "./api";
import { h } from "./dom";
import { Feedback, field, onSubmit } from "./forms";
import type { Message } from "./types";

export interface Composer {
  element: HTMLFormElement;
  disable(reason: string): void;
}

export function composer(threadId: string, sent: (message: Message) => void): Composer {
  const text = field("Message", "body", { rows: 2, placeholder: "Write a message" }, true);
  const hint = h("p", { class: "hint", id: "composer-hint" }, "Enter sends, Shift+Enter starts a new line.");
  const feedback = new Feedback([text]);
  const send = h("button", { type: "submit" }, "Send");
  const form = h("form", { class: "composer", novalidate: true }, feedback.alert, text.element, hint, h("div", { class: "actions" }, send), feedback.status);
  text.input.addEventListener("keydown", (event) => {
    const key = event as KeyboardEvent;
    if (key.key === "Enter" && !key.shiftKey && !key.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  onSubmit(form, feedback, async () => {
    if (text.input.value.trim() === "") return;
    text.input.readOnly = true;
    try {
      const message = await api<Message>("POST", `/threads/${encodeURIComponent(threadId)}/messages`, {
        json: { body: text.input.value },
        headers: { "Idempotency-Key": crypto.randomUUID() },
      });
      text.input.value = "";
      sent(message);
    } finally {
      text.input.readOnly = false;
      text.input.focus();
    }
  });
  return {
    element: form,
    disable(reason: string) {
      text.input.disabled = true;
      send.disabled = true;
      feedback.say(reason);
    },
  };
}
