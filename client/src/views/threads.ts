/**
 * My threads, newest activity first, with a form to start one. The API has no per-person event stream, so the
 * first page is fetched again every 5 s while the tab is visible (and when it becomes visible), merged by id.
 */

import { api } from "../api";
import { me } from "../account";
import { h, replace } from "../dom";
import { Feedback, field, onSubmit } from "../forms";
import { stamp } from "../format";
import { peoplePicker } from "../picker";
import { navigate, type ViewContext } from "../router";
import type { Page, ThreadDetail, ThreadSummary } from "../types";

const PAGE = 30;
const FRESH_EVERY_MS = 5000;

export function threadsView({ main, signal }: ViewContext): void {
  const list = h("ul", { class: "threads", "aria-label": "My threads" });
  const empty = h("p", { class: "hint", hidden: true }, "No threads yet. Start one above.");
  const more = h("button", { type: "button", class: "quiet", hidden: true }, "Load more");
  const sentinel = h("div", { class: "sentinel", "aria-hidden": "true" });
  const listFeedback = new Feedback([]);
  const known = new Map<string, { summary: ThreadSummary; item: HTMLLIElement }>();
  let cursor: string | null = null;
  let loading = false;

  const merge = (summaries: ThreadSummary[]): void => {
    for (const summary of summaries) {
      const entry = known.get(summary.id) ?? { summary, item: h("li", { class: "thread" }) };
      entry.summary = summary;
      replace(entry.item, threadLink(summary));
      known.set(summary.id, entry);
    }
    const ordered = [...known.values()].sort((a, b) =>
      b.summary.last_activity_at.localeCompare(a.summary.last_activity_at),
    );
    ordered.forEach(({ item }, index) => {
      if (list.children[index] !== item) list.insertBefore(item, list.children[index] ?? null);
    });
    empty.hidden = known.size > 0;
  };

  /** Threads I left or was removed from: missing from a fresh first page that reaches as far back as they are. */
  const dropGone = (first: ThreadSummary[]): void => {
    const reach = first.length < PAGE ? "" : (first[first.length - 1]?.last_activity_at ?? "");
    const listed = new Set(first.map((summary) => summary.id));
    for (const [id, entry] of known) {
      if (!listed.has(id) && entry.summary.last_activity_at >= reach) {
        entry.item.remove();
        known.delete(id);
      }
    }
  };

  const loadMore = async (): Promise<void> => {
    if (loading || signal.aborted) return;
    loading = true;
    try {
      const query = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
      const page = await api<Page<ThreadSummary>>("GET", `/threads?limit=${PAGE}${query}`, { signal });
      cursor = page.next_cursor;
      merge(page.items);
      more.hidden = cursor === null;
      listFeedback.clear();
    } catch (error) {
      if (!signal.aborted) listFeedback.show(error);
    } finally {
      loading = false;
    }
  };

  const refreshFirstPage = async (): Promise<void> => {
    if (document.visibilityState !== "visible" || signal.aborted) return;
    try {
      const first = (await api<Page<ThreadSummary>>("GET", `/threads?limit=${PAGE}`, { signal })).items;
      dropGone(first);
      merge(first);
    } catch {
      /* the next tick tries again */
    }
  };

  more.addEventListener("click", () => void loadMore());
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting) && cursor !== null) void loadMore();
  });
  observer.observe(sentinel);
  const ticker = window.setInterval(() => void refreshFirstPage(), FRESH_EVERY_MS);
  document.addEventListener("visibilitychange", () => void refreshFirstPage(), { signal });
  signal.addEventListener("abort", () => {
    observer.disconnect();
    window.clearInterval(ticker);
  });

  replace(
    main,
    h("h1", {}, "Threads"),
    h("div", { class: "columns" }, startForm(signal), h(
      "section",
      { class: "thread-list", "aria-labelledby": "threads-heading" },
      h("h2", { id: "threads-heading" }, "Conversations"),
      listFeedback.alert,
      list,
      empty,
      sentinel,
      more,
    )),
  );
  void loadMore();
}

function threadLink(summary: ThreadSummary): HTMLAnchorElement {
  const last = summary.last_message;
  const preview = !last ? "No messages yet" : last.body === null ? "This message was deleted" : last.body;
  const time = stamp(summary.last_activity_at);
  return h(
    "a",
    { href: `/t/${encodeURIComponent(summary.id)}`, class: summary.unread_count > 0 ? "thread-link unread" : "thread-link" },
    h("span", { class: "thread-title" }, summary.title),
    " ",
    summary.unread_count > 0 ? h("span", { class: "badge" }, `${summary.unread_count} unread`) : null,
    " ",
    h("span", { class: "preview" }, preview),
    " ",
    h("time", { datetime: time.datetime, title: time.title }, time.label),
  );
}

function startForm(signal: AbortSignal): HTMLElement {
  const title = field("Title", "title", { maxlength: 200 });
  let myId = "";
  void me().then((account) => (myId = account.id)).catch(() => undefined);
  const people = peoplePicker("Add people", () => new Set([myId]), signal);
  const feedback = new Feedback([title]);
  const form = h(
    "form",
    { novalidate: true, class: "card start", "aria-labelledby": "start-heading" },
    h("h2", { id: "start-heading" }, "Start a thread"),
    feedback.alert,
    title.element,
    people.element,
    h("button", { type: "submit" }, "Start thread"),
    feedback.status,
  );
  onSubmit(form, feedback, async () => {
    const participant_ids = people.chosen().map((p) => p.id);
    const thread = await api<ThreadDetail>("POST", "/threads", { json: { title: title.input.value.trim(), participant_ids } });
    navigate(`/t/${encodeURIComponent(thread.id)}`);
  });
  return form;
}
