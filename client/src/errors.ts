/** The API's one error shape `{detail, code, errors?}` as an exception, and how to read it from a response. */

export interface FieldError {
  field: string;
  message: string;
}

/** An answer in the API's error shape `{detail, code, errors?}`, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string,
    readonly fields: FieldError[] = [],
    readonly retryAfter: number | null = null,
  ) {
    super(detail);
  }

  /** What to tell a person: the detail, and when to try again for 429/503. */
  get text(): string {
    if (this.retryAfter !== null) return `${capitalise(this.detail)}. Try again in ${this.retryAfter} s.`;
    return capitalise(this.detail);
  }
}

function capitalise(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

export async function toApiError(response: Response): Promise<ApiError> {
  let body: { detail?: unknown; code?: unknown; errors?: unknown } = {};
  try {
    body = (await response.json()) as typeof body;
  } catch {
    /* not JSON: keep the status text */
  }
  const retry = response.headers.get("Retry-After");
  const retryAfter = retry !== null && /^\d+$/.test(retry) ? Number(retry) : null;
  const detail = typeof body.detail === "string" ? body.detail : response.statusText || `error ${response.status}`;
  const code = typeof body.code === "string" ? body.code : `http_${response.status}`;
  return new ApiError(response.status, code, detail, fieldErrors(body.errors), retryAfter);
}

/** `errors: [{loc: ["body", "email"], msg}]` → `[{field: "email", message}]`. */
function fieldErrors(errors: unknown): FieldError[] {
  if (!Array.isArray(errors)) return [];
  return errors.flatMap((error: { loc?: unknown; msg?: unknown }) => {
    const loc = Array.isArray(error.loc) ? error.loc.map(String) : [];
    const field = loc.length > 1 ? loc.slice(1).join(".") : "";
    return field ? [{ field, message: String(error.msg ?? "invalid") }] : [];
  });
}

export const networkError = (): ApiError =>
  new ApiError(0, "network", "could not reach the server; check your connection");
