/**
 * The people picker: a combobox over GET /accounts?q= (a display-name prefix or an exact email), with a
 * listbox of options (arrows + Enter, or a click) and the chosen people as removable chips.
 */

import { api } from "./api";
import { h, replace, uid } from "./dom";
import type { PublicProfile } from "./types";

export interface Picker {
  element: HTMLElement;
  input: HTMLInputElement;
  chosen(): PublicProfile[];
  clear(): void;
}

export function peoplePicker(label: string, excluded: () => Set<string>, signal: AbortSignal): Picker {
  const id = uid("picker");
  const listId = `${id}-list`;
  const input = h("input", {
    id,
    type: "text",
    role: "combobox",
    autocomplete: "off",
    "aria-autocomplete": "list",
    "aria-expanded": "false",
    "aria-controls": listId,
    "aria-describedby": `${id}-hint`,
  });
  const list = h("ul", { id: listId, role: "listbox", "aria-label": "Suggestions", class: "options", hidden: true });
  const found = h("p", { class: "visually-hidden", role: "status", "aria-live": "polite" });
  const chips = h("ul", { class: "chips", "aria-label": "Chosen people" });
  let options: PublicProfile[] = [];
  let active = -1;
  const picked = new Map<string, PublicProfile>();
  let timer: number | undefined;
  let asked = 0;

  const close = (): void => {
    options = [];
    active = -1;
    list.hidden = true;
    replace(list);
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };

  const paint = (): void => {
    replace(
      list,
      options.map((person, index) =>
        h(
          "li",
          {
            id: `${listId}-${index}`,
            role: "option",
            "aria-selected": index === active ? "true" : "false",
            class: index === active ? "option active" : "option",
            onmousedown: (event: MouseEvent) => event.preventDefault(),
            onclick: () => choose(person),
          },
          person.display_name,
        ),
      ),
    );
    list.hidden = options.length === 0;
    input.setAttribute("aria-expanded", options.length ? "true" : "false");
    if (active >= 0) input.setAttribute("aria-activedescendant", `${listId}-${active}`);
    else input.removeAttribute("aria-activedescendant");
  };

  const paintChips = (): void => {
    replace(
      chips,
      [...picked.values()].map((person) =>
        h(
          "li",
          { class: "chip" },
          h("span", {}, person.display_name),
          h(
            "button",
            {
              type: "button",
              class: "chip-remove",
              "aria-label": `Remove ${person.display_name}`,
              onclick: () => {
                picked.delete(person.id);
                paintChips();
                input.focus();
              },
            },
            "×",
          ),
        ),
      ),
    );
    chips.hidden = picked.size === 0;
  };

  const choose = (person: PublicProfile): void => {
    picked.set(person.id, person);
    input.value = "";
    close();
    paintChips();
    replace(found, `${person.display_name} added`);
    input.focus();
  };

  const search = async (): Promise<void> => {
    const q = input.value.trim();
    const mine = ++asked;
    if (!q) return close();
    try {
      const page = await api<{ items: PublicProfile[] }>("GET", `/accounts?q=${encodeURIComponent(q)}&limit=8`, { signal });
      if (mine !== asked) return;
      const skip = excluded();
      options = page.items.filter((p) => !picked.has(p.id) && !skip.has(p.id));
      active = -1;
      paint();
      replace(found, options.length ? `${options.length} found` : "No one found");
    } catch {
      if (mine === asked) close();
    }
  };

  input.addEventListener("input", () => {
    window.clearTimeout(timer);
    timer = window.setTimeout(() => void search(), 200);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      if (!options.length) return;
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      active = active < 0 ? (step > 0 ? 0 : options.length - 1) : (active + step + options.length) % options.length;
      paint();
    } else if (event.key === "Enter" && options.length) {
      // Enter picks the highlighted person, or the first one, rather than submitting the form.
      event.preventDefault();
      choose((options[active] ?? options[0]) as PublicProfile);
    } else if (event.key === "Escape" && options.length) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener("blur", () => window.setTimeout(close, 150));
  chips.hidden = true;

  const element = h(
    "div",
    { class: "field picker" },
    h("label", { for: id }, label),
    h("p", { id: `${id}-hint`, class: "hint" }, "Type a name or an email address, then choose."),
    h("div", { class: "combo" }, input, list),
    chips,
    found,
  );
  return {
    element,
    input,
    chosen: () => [...picked.values()],
    clear: () => {
      picked.clear();
      paintChips();
    },
  };
}
