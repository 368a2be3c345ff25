/** One thread: title (the owner renames it), the message log with its composer, participants, and the live stream. */

import { api } from "../api";
import { me } from "../account";
import { composer } from "../composer";
import { h, replace } from "../dom";
import { ApiError } from "../errors";
import { followThread, type StreamEvent } from "../events";
import { Feedback, field, onSubmit } from "../forms";
import { MessageLog } from "../messages";
import { Participants } from "../participants";
import { navigate, type ViewContext } from "../router";
import type { Account, Message, Page, Participant, ThreadDetail } from "../types";

const PAGE = 50;

export async function threadView({ main, params, signal }: ViewContext): Promise<void> {
  const id = params.id ?? "";
  const base = `/threads/${encodeURIComponent(id)}`;
  replace(main, h("h1", {}, "Thread"), h("p", { role: "status" }, "Loading…"));
  let thread: ThreadDetail;
  let account: Account;
  try {
    [thread, account] = await Promise.all([api<ThreadDetail>("GET", base, { signal }), me()]);
  } catch (error) {
    if (signal.aborted) return;
    const gone = error instanceof ApiError && error.status === 404;
    const feedback = new Feedback([]);
    feedback.show(error);
    replace(main, h("h1", {}, gone ? "Thread not found" : "Thread"), gone ? h("p", {}, "It does not exist, or you are not in it.") : feedback.alert, h("p", {}, h("a", { href: "/" }, "Back to threads")));
    return;
  }
  if (signal.aborted) return;

  const notice = h("div", { role: "alert", class: "alert", hidden: true });
  const people = new Participants(id, account.id, thread.owner_id, thread.participants, signal, () => navigate("/"));
  const log = new MessageLog(id, account.id, (userId) => people.nameOf(userId));
  const write = composer(id, (message) => {
    log.upsert(message);
    log.scrollToBottom();
    void markRead();
  });
  let cursor: string | null = null;
  let loaded = false;
  let loadingOlder = false;
  let readUpTo: string | null = null;
  const older = h("button", { type: "button", class: "quiet small", hidden: true }, "Load older messages");

  const loadOlder = async (): Promise<void> => {
    if (loadingOlder || (loaded && cursor === null)) return;
    loadingOlder = true;
    try {
      const query = cursor ? `&before=${encodeURIComponent(cursor)}` : "";
      const page = await api<Page<Message>>("GET", `${base}/messages?limit=${PAGE}${query}`, { signal });
      const first = !loaded;
      cursor = page.next_cursor;
      loaded = true;
      log.prependOlder(page.items);
      older.hidden = cursor === null;
      if (first) {
        log.scrollToBottom();
        void markRead();
      }
    } catch (error) {
      if (!signal.aborted) showNotice(error instanceof ApiError ? error.text : "Could not load messages.");
    } finally {
      loadingOlder = false;
    }
  };

  /** After a stream (re)start "from now", fetch the newest page so nothing between the two is missed. */
  const catchUp = async (): Promise<void> => {
    try {
      const page = await api<Page<Message>>("GET", `${base}/messages?limit=${PAGE}`, { signal });
      for (const message of [...page.items].reverse()) log.upsert(message);
      void markRead();
    } catch {
      /* the stream carries on */
    }
  };

  const markRead = async (): Promise<void> => {
    const newest = log.newestId();
    if (!newest || newest === readUpTo || document.visibilityState !== "visible" || signal.aborted) return;
    readUpTo = newest;
    await api("POST", `${base}/read`, { json: { message_id: newest } }).catch(() => {
      readUpTo = null;
    });
  };

  const showNotice = (text: string): void => {
    replace(notice, text);
    notice.hidden = false;
  };

  const stopped = (reason: string): void => {
    if (reason === "session_ended") return;
    showNotice(reason === "removed" || reason === "access_revoked" ? "You are no longer a participant of this thread." : "This thread is no longer available to you.");
    write.disable("You can no longer write here.");
  };

  const onEvent = (event: StreamEvent): void => {
    const data = event.data as Record<string, unknown>;
    if (event.type === "message.created" || event.type === "message.edited") {
      if (log.upsert(data as unknown as Message)) void markRead();
    } else if (event.type === "message.deleted") {
      log.markDeleted(String(data.id), String(data.deleted_at));
    } else if (event.type === "participant.added") {
      people.add(data as unknown as Participant);
    } else if (event.type === "participant.removed") {
      const owner = typeof data.owner_id === "string" ? data.owner_id : null;
      people.remove(String(data.user_id), owner);
      if (data.user_id === account.id) stopped("removed");
    }
  };

  older.addEventListener("click", () => void loadOlder());
  log.element.addEventListener("scroll", () => {
    if (log.element.scrollTop < 60 && loaded && cursor !== null) void loadOlder();
  });
  document.addEventListener("visibilitychange", () => void markRead(), { signal });

  replace(
    main,
    titleBar(thread, account.id, base),
    notice,
    h(
      "div",
      { class: "thread-page" },
      h("section", { class: "conversation", "aria-label": "Conversation" }, older, log.element, write.element),
      people.element,
    ),
  );
  followThread(id, { onEvent, onStop: stopped, onOpen: (resumed) => void (resumed || !loaded ? null : catchUp()) }, signal);
  await loadOlder();
}

function titleBar(thread: ThreadDetail, myId: string, base: string): HTMLElement {
  const heading = h("h1", {}, thread.title);
  const bar = h("div", { class: "title-bar" }, heading);
  if (thread.owner_id !== myId) return bar;
  const rename = h("button", { type: "button", class: "quiet small" }, "Rename");
  const show = (): void => replace(bar, heading, rename);
  rename.addEventListener("click", () => {
    const title = field("Thread title", "title", { value: heading.textContent ?? "", maxlength: 200 });
    const feedback = new Feedback([title]);
    const form = h(
      "form",
      { class: "rename", novalidate: true },
      feedback.alert,
      title.element,
      h("div", { class: "actions" }, h("button", { type: "submit" }, "Save"), h("button", { type: "button", class: "quiet", onclick: () => { show(); rename.focus(); } }, "Cancel")),
    );
    onSubmit(form, feedback, async () => {
      const updated = await api<ThreadDetail>("PATCH", base, { json: { title: title.input.value.trim() } });
      heading.textContent = updated.title;
      document.title = `${updated.title} · chorus`;
      show();
      rename.focus();
    });
    replace(bar, heading, form);
    title.input.focus();
  });
  show();
  return bar;
}
