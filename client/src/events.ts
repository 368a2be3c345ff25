/**
 * The thread's live stream, read with fetch() because EventSource cannot send Authorization. Parses the SSE format,
 * resumes with Last-Event-ID after any drop (capped, jittered backoff), and follows the server's `end` reasons.
 */

import { toApiError } from "./errors";
import { accessToken, refreshSession, sessionLost } from "./session";

export interface StreamEvent {
  type: string;
  id: string | null;
  data: unknown;
}

export interface StreamHandlers {
  onEvent(event: StreamEvent): void;
  /** The stream is open (again); `resumed` is false when it started "from now" and a gap is possible. */
  onOpen?(resumed: boolean): void;
  /** The stream stopped for good: removed, access_revoked, session_ended, not_found. */
  onStop(reason: string): void;
}

type Outcome = { kind: "end"; reason: string } | { kind: "dropped" } | { kind: "refused"; status: number; retry: number | null };

const RECONNECT = new Set(["interrupted", "fell_behind"]);
const STOP = new Set(["removed", "access_revoked", "session_ended"]);

export function followThread(threadId: string, handlers: StreamHandlers, signal: AbortSignal): void {
  let lastId: string | null = null;
  let failures = 0;

  const read = async (): Promise<Outcome> => {
    const headers: Record<string, string> = { Accept: "text/event-stream" };
    const token = accessToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (lastId !== null) headers["Last-Event-ID"] = lastId;
    let response: Response;
    try {
      response = await fetch(`/threads/${encodeURIComponent(threadId)}/events`, { headers, signal, cache: "no-store" });
    } catch {
      return { kind: "dropped" };
    }
    if (response.status !== 200 || !response.body) {
      const error = await toApiError(response);
      return { kind: "refused", status: response.status, retry: error.retryAfter };
    }
    handlers.onOpen?.(lastId !== null);
    let ended: string | null = null;
    const parser = new SseParser((type, id, data) => {
      if (id !== null) lastId = id;
      let parsed: unknown = data;
      try {
        parsed = JSON.parse(data);
      } catch {
        /* keep the raw text */
      }
      if (type === "end") {
        ended = typeof parsed === "object" && parsed && "reason" in parsed ? String(parsed.reason) : "unknown";
        return;
      }
      failures = 0;
      handlers.onEvent({ type, id, data: parsed });
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
        if (ended !== null) break;
      }
    } catch {
      /* a dropped connection; fall through */
    } finally {
      reader.cancel().catch(() => undefined);
    }
    return ended !== null ? { kind: "end", reason: ended } : { kind: "dropped" };
  };

  const backoff = (): number => {
    failures += 1;
    const cap = Math.min(15_000, 1000 * 2 ** (failures - 1));
    return cap / 2 + Math.random() * (cap / 2);
  };

  const stop = (reason: string): void => {
    handlers.onStop(reason);
    if (reason === "session_ended") sessionLost();
  };

  const loop = async (): Promise<void> => {
    while (!signal.aborted) {
      const outcome = await read();
      if (signal.aborted) return;
      if (outcome.kind === "end") {
        if (STOP.has(outcome.reason)) return stop(outcome.reason);
        if (outcome.reason === "token_expired") {
          if (!(await refreshQuietly())) return stop("session_ended");
          continue;
        }
        if (RECONNECT.has(outcome.reason)) continue;
        await sleep(backoff(), signal); // unavailable, or a reason this client does not know
      } else if (outcome.kind === "refused") {
        if (outcome.status === 401) {
          if (!(await refreshQuietly())) return stop("session_ended");
        } else if (outcome.status === 404 || outcome.status === 403) {
          return stop("not_found");
        } else {
          const wait = outcome.retry !== null ? Math.min(outcome.retry * 1000, 60_000) : backoff();
          await sleep(wait, signal);
        }
      } else {
        await sleep(backoff(), signal);
      }
    }
  };
  void loop();
}

async function refreshQuietly(): Promise<boolean> {
  try {
    return await refreshSession();
  } catch {
    return true; // a network error: the reconnect's own backoff deals with it
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = window.setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      window.clearTimeout(timer);
      resolve();
    });
  });
}

/** The text/event-stream format: fields per line, a blank line dispatches, `:` starts a comment. */
export class SseParser {
  private buffer = "";
  private type = "";
  private data: string[] = [];
  private id: string | null = null;
  private pendingCr = false;

  constructor(private readonly dispatch: (type: string, id: string | null, data: string) => void) {}

  feed(chunk: string): void {
    // A CRLF split across chunks: the CR already ended the line, so the LF must not end another.
    if (this.pendingCr && chunk.startsWith("\n")) chunk = chunk.slice(1);
    this.pendingCr = chunk.endsWith("\r");
    this.buffer += chunk;
    const lines = this.buffer.split(/\r\n|\r|\n/);
    this.buffer = lines.pop() ?? "";
    for (const line of lines) this.line(line);
  }

  private line(line: string): void {
    if (line === "") {
      if (this.data.length > 0) this.dispatch(this.type || "message", this.id, this.data.join("\n"));
      this.type = "";
      this.data = [];
      this.id = null;
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.type = value;
    else if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) this.id = value;
  }
}
