/** Dates for people: the time today, else the day and time. */

const time = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit" });
const dayTime = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });

export function when(iso: string): string {
  const date = new Date(iso);
  return date.toDateString() === new Date().toDateString() ? time.format(date) : dayTime.format(date);
}

/** A `<time>`-ready machine value and a human label. */
export function stamp(iso: string): { datetime: string; label: string; title: string } {
  const date = new Date(iso);
  return { datetime: date.toISOString(), label: when(iso), title: date.toLocaleString() };
}
