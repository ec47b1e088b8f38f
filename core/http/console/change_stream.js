// Follows GET /v1/stream?customer_id=ID with fetch() and a streaming body
// reader (EventSource cannot send the Authorization header), parses the
// Server-Sent Events, and reconnects with backoff, resuming with
// Last-Event-ID so nothing is lost and nothing comes twice.
import { apiFetch } from "./api.js";

const MAX_DELAY_MS = 10000;

export class ChangeStream {
  // handlers: onChange(kind, change), onReset(), onState(state, retryMs),
  // onReconnect({resumed}) after a connection that is not the first.
  constructor(customerId, handlers) {
    this.customerId = customerId;
    this.handlers = handlers;
    this.lastEventId = null;
    this.stopped = false;
    this.failures = 0;
    this.connections = 0;
    this.controller = null;
    this.wakeUp = null;
  }

  // Resolves with true once connected, false when the first try failed
  // (it goes on trying).
  start() {
    const first = new Promise((resolve) => (this.settleFirst = resolve));
    this.run();
    return first;
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
    this.wakeUp?.();
  }

  async run() {
    while (!this.stopped) {
      this.controller = new AbortController();
      this.handlers.onState("connecting");
      try {
        const headers = this.lastEventId === null ? {} : { "Last-Event-ID": this.lastEventId };
        const response = await apiFetch(`/v1/stream?customer_id=${encodeURIComponent(this.customerId)}`, {
          headers, signal: this.controller.signal, cache: "no-store",
        });
        if (!response.ok) {
          await response.body?.cancel();
          throw new Error(`the change stream answered ${response.status}`);
        }
        this.failures = 0;
        this.handlers.onState("live");
        if (this.connections++ > 0) this.handlers.onReconnect?.({ resumed: this.lastEventId !== null });
        this.settleFirst(true);
        await this.read(response.body);
      } catch {
        // the server went away, or the network: try again below
      }
      if (this.stopped) return;
      this.settleFirst(false);
      const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** this.failures++) * (0.8 + Math.random() * 0.4);
      this.handlers.onState("disconnected", delay);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, delay);
        this.wakeUp = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done || this.stopped) return;
      buffer += value;
      for (let end = buffer.search(/\r\n\r\n|\n\n|\r\r/); end >= 0; end = buffer.search(/\r\n\r\n|\n\n|\r\r/)) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + (buffer.startsWith("\r\n\r\n", end) ? 4 : 2));
        this.dispatch(frame);
      }
    }
  }

  dispatch(frame) {
    let kind = "message";
    let id = null;
    const data = [];
    for (const line of frame.split(/\r\n|\n|\r/)) {
      if (line === "" || line.startsWith(":")) continue;  // ": ping" keeps the connection open
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      if (field === "event") kind = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
    if (id !== null) this.lastEventId = id;
    if (kind === "reset") return this.handlers.onReset();
    if (data.length === 0) return;
    let change;
    try {
      change = JSON.parse(data.join("\n"));
    } catch {
      return;  // not a change this page knows how to read
    }
    this.handlers.onChange(kind, change);
  }
}
