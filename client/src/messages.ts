/**
 * The message log: oldest at the top, newest at the bottom; older pages are prepended keeping the scroll
 * position; new messages scroll into view only when the reader is already near the bottom.
 */

import { api } from "./api";
import { nameOf } from "./account";
import { h, replace } from "./dom";
import { Feedback, field, onSubmit } from "./forms";
import { stamp } from "./format";
import type { Message } from "./types";

interface Entry {
  message: Message;
  element: HTMLElement;
}

const NEAR_BOTTOM_PX = 80;

export class MessageLog {
  readonly element = h("div", { role: "log", "aria-label": "Messages", class: "log", tabindex: 0 });
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly threadId: string,
    private readonly myId: string,
    private readonly nameFor: (userId: string) => string | undefined,
  ) {}

  newestId(): string | null {
    const last = this.element.lastElementChild;
    return last instanceof HTMLElement ? (last.dataset.id ?? null) : null;
  }

  nearBottom(): boolean {
    const log = this.element;
    return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom(): void {
    this.element.scrollTop = this.element.scrollHeight;
  }

  /** A page from the API (newest first), older than what is shown: prepended, the view kept still. */
  prependOlder(page: Message[]): void {
    const log = this.element;
    const before = log.scrollHeight;
    for (const message of page) {
      if (this.entries.has(message.id)) continue;
      const entry = this.entry(message);
      log.insertBefore(entry.element, log.firstChild);
    }
    log.scrollTop += log.scrollHeight - before;
  }

  /** A new or changed message: changed in place, or put in order (almost always at the bottom). */
  upsert(message: Message): boolean {
    const known = this.entries.get(message.id);
    if (known) {
      known.message = message;
      this.paint(known);
      return false;
    }
    const stick = this.nearBottom();
    const entry = this.entry(message);
    let next: Element | null = null;
    for (let node = this.element.lastElementChild; node; node = node.previousElementSibling) {
      const other = this.entries.get((node as HTMLElement).dataset.id ?? "");
      if (other && later(other.message, message)) next = node;
      else break;
    }
    this.element.insertBefore(entry.element, next);
    if (stick) this.scrollToBottom();
    return true;
  }

  markDeleted(id: string, deletedAt: string): void {
    const known = this.entries.get(id);
    if (!known) return;
    known.message = { ...known.message, body: null, deleted_at: deletedAt };
    this.paint(known);
  }

  private entry(message: Message): Entry {
    const entry = { message, element: h("article", { class: "message" }) };
    entry.element.dataset.id = message.id;
    this.entries.set(message.id, entry);
    this.paint(entry);
    return entry;
  }

  private paint(entry: Entry, content?: HTMLElement): void {
    const { message, element } = entry;
    const mine = message.author_id === this.myId;
    element.classList.toggle("mine", mine);
    const time = stamp(message.created_at);
    const author = h("span", { class: "author" }, this.author(message.author_id));
    const header = h(
      "header",
      {},
      author,
      " ",
      h("time", { datetime: time.datetime, title: time.title }, time.label),
      message.edited_at && !message.deleted_at ? h("span", { class: "edited" }, " (edited)") : null,
    );
    const body = message.deleted_at
      ? h("p", { class: "body deleted" }, "This message was deleted")
      : h("p", { class: "body" }, message.body ?? "");
    const actions =
      mine && !message.deleted_at && !content
        ? h(
            "div",
            { class: "actions" },
            h("button", { type: "button", class: "quiet small", onclick: () => this.edit(entry) }, "Edit message"),
            h("button", { type: "button", class: "quiet small", onclick: () => this.confirmDelete(entry) }, "Delete message"),
          )
        : null;
    replace(element, header, content ?? body, actions);
  }

  private author(userId: string | null): string {
    if (!userId) return "Deleted account";
    if (userId === this.myId) return "You";
    const known = this.nameFor(userId);
    if (known) return known;
    void nameOf(userId).then((name) => {
      for (const e of this.entries.values())
        if (e.message.author_id === userId) {
          const span = e.element.querySelector(".author");
          if (span) span.textContent = name;
        }
    });
    return "…";
  }

  private edit(entry: Entry): void {
    const text = field("Edit message", "body", { rows: 3 }, true);
    text.input.value = entry.message.body ?? "";
    const feedback = new Feedback([text]);
    const cancel = (): void => {
      this.paint(entry);
      entry.element.querySelector<HTMLButtonElement>("button")?.focus();
    };
    const form = h(
      "form",
      { class: "edit", novalidate: true },
      feedback.alert,
      text.element,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Save"), h("button", { type: "button", class: "quiet", onclick: cancel }, "Cancel")),
    );
    text.input.addEventListener("keydown", (event) => {
      if ((event as KeyboardEvent).key === "Escape") cancel();
    });
    onSubmit(form, feedback, async () => {
      const path = `/threads/${encodeURIComponent(this.threadId)}/messages/${encodeURIComponent(entry.message.id)}`;
      entry.message = await api<Message>("PATCH", path, { json: { body: text.input.value } });
      this.paint(entry);
    });
    this.paint(entry, form);
    text.input.focus();
  }

  private confirmDelete(entry: Entry): void {
    const feedback = new Feedback([]);
    const form = h(
      "form",
      { class: "confirm", novalidate: true },
      h("p", { class: "body" }, entry.message.body ?? ""),
      h("p", {}, "Delete this message? Everyone in the thread will see that it was deleted."),
      feedback.alert,
      h("div", { class: "actions" }, h("button", { type: "submit", class: "danger" }, "Delete"), h("button", { type: "button", class: "quiet", onclick: () => this.paint(entry) }, "Cancel")),
    );
    onSubmit(form, feedback, async () => {
      const path = `/threads/${encodeURIComponent(this.threadId)}/messages/${encodeURIComponent(entry.message.id)}`;
      await api("DELETE", path);
      this.markDeleted(entry.message.id, new Date().toISOString());
    });
    this.paint(entry, form);
    form.querySelector<HTMLButtonElement>("button.danger")?.focus();
  }
}

function later(a: Message, b: Message): boolean {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  return ta !== tb ? ta > tb : a.id > b.id;
}
