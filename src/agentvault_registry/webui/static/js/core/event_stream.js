// The registry's event stream (GET /api/v1/events/stream) as Server-Sent Events read through
// fetch(): EventSource cannot send the Authorization header the stream needs. Parses the SSE
// wire format, resumes after a drop with Last-Event-ID (so nothing is missed or repeated),
// backs off while the registry is unreachable, and refreshes the access token through the
// session when the stream answers 401.

const STREAM_PATH = "/api/v1/events/stream";
// A stream that was live and then ended is usually a proxy timeout or a deploy: come back
// quickly. Failures in a row back off from the server's retry hint up to a ceiling.
const QUICK_RECONNECT_MS = 500;
const DEFAULT_RETRY_MS = 3000;
const MAX_RETRY_MS = 30_000;

/** Thrown inside the loop for an answer that retrying will not fix (403, 422). */
class StreamRefused extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

function jittered(milliseconds) {
  return Math.round(milliseconds * (0.8 + Math.random() * 0.4));
}

function withQuery(query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === "") continue;
    for (const item of Array.isArray(value) ? value : [value]) params.append(name, String(item));
  }
  const text = params.toString();
  return text ? `${STREAM_PATH}?${text}` : STREAM_PATH;
}

/**
 * Parses SSE text as it arrives. ``feed(chunk)`` calls ``dispatch({id, event, data})`` for
 * each complete event, ``onId(id)`` whenever an id field sets the last event id, and
 * ``onRetry(ms)`` for a retry field. Comments (heartbeats) are skipped.
 */
export class SseParser {
  constructor({ dispatch, onId = () => {}, onRetry = () => {} }) {
    this.dispatch = dispatch;
    this.onId = onId;
    this.onRetry = onRetry;
    this.buffer = "";
    this.reset();
  }

  reset() {
    this.event = "";
    this.data = [];
    this.id = null;
  }

  feed(text) {
    this.buffer += text;
    // Lines end with \n, \r\n or \r; a trailing \r may be the first half of a \r\n.
    const lines = this.buffer.split(/\r\n|\n|\r(?!$)/);
    this.buffer = lines.pop();
    for (const line of lines) this.line(line);
  }

  line(line) {
    if (line === "") {
      if (this.data.length) this.dispatch({ id: this.id, event: this.event || "message", data: this.data.join("\n") });
      this.reset();
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const name = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "data") this.data.push(value);
    else if (name === "event") this.event = value;
    else if (name === "id" && !value.includes("\0")) {
      this.id = value;
      this.onId(value);
    } else if (name === "retry" && /^\d+$/.test(value)) this.onRetry(Number(value));
  }
}

function refusalMessage(status, body) {
  if (body && body.message) return body.message;
  return `The event stream was refused (${status}).`;
}

async function readError(response) {
  try {
    return await response.json();
  } catch {
    return null;
  }
}

/**
 * Open the event stream and keep it open until ``signal`` aborts or ``close()`` is called.
 *
 * - ``query``: {types, capability} as the endpoint takes them (arrays repeat the parameter).
 * - ``onEvent(event)``: each event's parsed JSON (an activity entry: seq, action, details…).
 * - ``onStatus({state, retryInMs, attempt, error})``: state is "connecting", "live",
 *   "reconnecting" (waiting retryInMs before attempt), "offline" (the browser has no network;
 *   the stream resumes when it returns) or "stopped" (refused for good, or closed).
 * - ``lastEventId``: resume after this seq (replaying what came after it).
 *
 * Returns {close(), lastEventId (getter)}.
 */
export function openEventStream({ api, session, query, onEvent, onStatus = () => {}, signal, lastEventId = null }) {
  const aborter = new AbortController();
  const stop = () => aborter.abort();
  if (signal) {
    if (signal.aborted) aborter.abort();
    else signal.addEventListener("abort", stop, { once: true });
  }
  const state = { lastEventId, retryMs: DEFAULT_RETRY_MS, failures: 0, wake: null };
  const url = withQuery(query);

  // Wakes a waiting reconnect early: the network is back.
  const onOnline = () => state.wake && state.wake();
  window.addEventListener("online", onOnline);
  aborter.signal.addEventListener("abort", () => {
    window.removeEventListener("online", onOnline);
    if (state.wake) state.wake();
  });

  const pause = (milliseconds) =>
    new Promise((resolve) => {
      const timer = setTimeout(done, milliseconds);
      function done() {
        clearTimeout(timer);
        state.wake = null;
        resolve();
      }
      state.wake = done;
    });

  async function connectOnce() {
    const headers = { Accept: "text/event-stream" };
    const token = session.accessToken;
    if (token) headers.Authorization = `Bearer ${token}`;
    if (state.lastEventId !== null) headers["Last-Event-ID"] = String(state.lastEventId);
    const response = await fetch(url, { headers, signal: aborter.signal, credentials: "same-origin", cache: "no-store" });
    if (response.status === 401 && token) {
      await response.body?.cancel();
      // Expired while the stream was open: refresh (shared with every other caller) and
      // connect again at once; a refused refresh ends the session, and the stream with it.
      if (await session.refreshAfter(token)) return "refreshed";
      throw new StreamRefused(401, "Your session has ended. Sign in again to follow the registry live.");
    }
    if (response.status === 403 || response.status === 422 || response.status === 401) {
      throw new StreamRefused(response.status, refusalMessage(response.status, await readError(response)));
    }
    if (!response.ok || !response.body) {
      const body = await readError(response);
      const retryAfter = Number(response.headers.get("Retry-After"));
      if (retryAfter > 0) state.retryMs = Math.max(state.retryMs, retryAfter * 1000);
      throw new Error(refusalMessage(response.status, body));
    }
    state.failures = 0;
    onStatus({ state: "live" });
    const parser = new SseParser({
      dispatch: (message) => {
        let entry;
        try {
          entry = JSON.parse(message.data);
        } catch {
          return;
        }
        onEvent(entry);
      },
      onId: (id) => {
        state.lastEventId = id;
      },
      onRetry: (milliseconds) => {
        state.retryMs = milliseconds;
      },
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return "ended";
      parser.feed(value);
    }
  }

  async function run() {
    onStatus({ state: "connecting" });
    while (!aborter.signal.aborted) {
      let outcome;
      let failure = null;
      try {
        outcome = await connectOnce();
      } catch (error) {
        if (aborter.signal.aborted) break;
        if (error instanceof StreamRefused) {
          onStatus({ state: "stopped", error });
          return;
        }
        failure = error;
      }
      if (aborter.signal.aborted) break;
      if (outcome === "refreshed") continue;
      let delay;
      if (failure) {
        state.failures += 1;
        delay = jittered(Math.min(MAX_RETRY_MS, state.retryMs * 2 ** (state.failures - 1)));
      } else {
        delay = jittered(QUICK_RECONNECT_MS);
      }
      if (!navigator.onLine) {
        onStatus({ state: "offline", error: failure });
        await pause(MAX_RETRY_MS);
      } else {
        onStatus({ state: "reconnecting", retryInMs: delay, attempt: state.failures + 1, error: failure });
        await pause(delay);
      }
    }
    onStatus({ state: "stopped" });
  }

  run();
  return {
    close: stop,
    get lastEventId() {
      return state.lastEventId;
    },
  };
}
