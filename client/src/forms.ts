/** Labelled fields, and showing an API error on a form: field errors beside their field, the rest in an alert. */

import { h, replace, uid, type Attrs } from "./dom";
import { ApiError } from "./errors";

export interface Field {
  name: string;
  input: HTMLInputElement | HTMLTextAreaElement;
  error: HTMLElement;
  element: HTMLElement;
}

export function field(label: string, name: string, attrs: Attrs = {}, multiline = false): Field {
  const id = uid(name);
  const input = multiline ? h("textarea", { id, name, ...attrs }) : h("input", { id, name, type: "text", ...attrs });
  const error = h("p", { id: `${id}-error`, class: "field-error", hidden: true });
  const element = h("div", { class: "field" }, h("label", { for: id }, label), input, error);
  return { name, input, error, element };
}

/** The alert and status regions of a form, and the fields whose errors it shows. */
export class Feedback {
  readonly alert = h("div", { role: "alert", class: "alert", hidden: true });
  readonly status = h("p", { role: "status", "aria-live": "polite", class: "status" });

  /** `aliases` maps an API field (or error code) to one of this form's field names, e.g. username → email. */
  constructor(
    private readonly fields: Field[],
    private readonly aliases: Record<string, string> = {},
  ) {}

  clear(): void {
    this.alert.hidden = true;
    replace(this.alert);
    replace(this.status);
    for (const f of this.fields) {
      f.error.hidden = true;
      replace(f.error);
      f.input.removeAttribute("aria-invalid");
      f.input.removeAttribute("aria-describedby");
    }
  }

  say(text: string): void {
    replace(this.status, text);
  }

  show(error: unknown): void {
    this.clear();
    if (!(error instanceof ApiError)) {
      this.raise(error instanceof Error ? error.message : "Something went wrong.");
      return;
    }
    const unplaced: string[] = [];
    let first: Field | undefined;
    for (const fieldError of error.fields) {
      const target = this.find(fieldError.field);
      if (target) {
        this.mark(target, fieldError.message);
        first ??= target;
      } else unplaced.push(`${fieldError.field}: ${fieldError.message}`);
    }
    const byCode = this.find(error.code);
    if (byCode && error.fields.length === 0) {
      this.mark(byCode, error.text);
      first = byCode;
    } else if (first && unplaced.length === 0) this.raise("Please correct the marked fields.");
    else this.raise(unplaced.length ? unplaced.join("; ") : error.text);
    first?.input.focus();
  }

  private find(name: string): Field | undefined {
    const target = this.aliases[name] ?? name;
    return this.fields.find((f) => f.name === target);
  }

  private mark(target: Field, message: string): void {
    replace(target.error, message);
    target.error.hidden = false;
    target.input.setAttribute("aria-invalid", "true");
    target.input.setAttribute("aria-describedby", target.error.id);
  }

  private raise(text: string): void {
    replace(this.alert, text);
    this.alert.hidden = false;
  }
}

/** Run a submit handler with its button disabled, showing any error on the form. */
export function onSubmit(form: HTMLFormElement, feedback: Feedback, work: () => Promise<void>): void {
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const buttons = [...form.querySelectorAll("button")];
    if (buttons.some((b) => b.disabled)) return;
    feedback.clear();
    for (const b of buttons) b.disabled = true;
    work()
      .catch((error: unknown) => feedback.show(error))
      .finally(() => {
        for (const b of buttons) b.disabled = false;
      });
  });
}
