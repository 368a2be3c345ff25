/** The participants panel: names (owner marked); the owner may add and remove people; anyone may leave. */

import { api } from "./api";
import { rememberName } from "./account";
import { h, replace } from "./dom";
import { Feedback } from "./forms";
import { peoplePicker } from "./picker";
import type { Participant } from "./types";

export class Participants {
  readonly element: HTMLElement;
  private readonly list = h("ul", { class: "people", "aria-labelledby": "participants-heading" });
  private readonly feedback = new Feedback([]);
  private readonly adder = h("form", { class: "add-people", novalidate: true });
  private readonly people = new Map<string, Participant>();

  constructor(
    private readonly threadId: string,
    private readonly myId: string,
    private ownerId: string | null,
    initial: Participant[],
    signal: AbortSignal,
    private readonly left: () => void,
  ) {
    for (const p of initial) this.add(p, false);
    const picker = peoplePicker("Add participant", () => new Set(this.people.keys()), signal);
    replace(this.adder, picker.element, h("button", { type: "submit" }, "Add"));
    this.adder.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.run(async () => {
        for (const person of picker.chosen()) {
          this.add(await api<Participant>("POST", this.path(), { json: { user_id: person.id } }));
        }
        picker.clear();
      });
    });
    const leave = h("button", { type: "button", class: "quiet", onclick: () => void this.run(() => this.leave()) }, "Leave thread");
    this.element = h(
      "section",
      { class: "participants", "aria-labelledby": "participants-heading" },
      h("h2", { id: "participants-heading" }, "Participants"),
      this.feedback.alert,
      this.list,
      this.adder,
      this.feedback.status,
      leave,
    );
    this.paint();
  }

  nameOf(userId: string): string | undefined {
    return this.people.get(userId)?.display_name;
  }

  add(participant: Participant, paint = true): void {
    this.people.set(participant.user_id, participant);
    rememberName(participant.user_id, participant.display_name);
    if (paint) this.paint();
  }

  remove(userId: string, ownerId: string | null): void {
    this.people.delete(userId);
    this.ownerId = ownerId;
    this.paint();
  }

  private paint(): void {
    const owner = this.ownerId === this.myId;
    this.adder.hidden = !owner;
    const sorted = [...this.people.values()].sort((a, b) => a.joined_at.localeCompare(b.joined_at));
    replace(
      this.list,
      sorted.map((p) =>
        h(
          "li",
          {},
          h("span", {}, p.user_id === this.myId ? `${p.display_name} (you)` : p.display_name),
          p.user_id === this.ownerId ? h("span", { class: "tag" }, "owner") : null,
          owner && p.user_id !== this.myId
            ? h("button", { type: "button", class: "quiet small", onclick: () => void this.run(() => this.drop(p)) }, `Remove ${p.display_name}`)
            : null,
        ),
      ),
    );
  }

  private path(userId?: string): string {
    const base = `/threads/${encodeURIComponent(this.threadId)}/participants`;
    return userId ? `${base}/${encodeURIComponent(userId)}` : base;
  }

  private async drop(p: Participant): Promise<void> {
    await api("DELETE", this.path(p.user_id));
    this.remove(p.user_id, this.ownerId);
    this.feedback.say(`${p.display_name} was removed.`);
  }

  private async leave(): Promise<void> {
    await api("DELETE", this.path(this.myId));
    this.left();
  }

  private async run(work: () => Promise<void>): Promise<void> {
    this.feedback.clear();
    try {
      await work();
    } catch (error) {
      this.feedback.show(error);
    }
  }
}
