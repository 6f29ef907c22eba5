// The console's one live socket to the hub (GET /v1/operators/live): the operator's session rides as a
// second subprotocol (a browser cannot set Authorization on a WebSocket). Reconnects with exponential
// backoff and jitter (1 s doubling to 30 s) after anything but a refusal; the filter is sent again on
// every connection, so a reconnect shows the same feed.
import type { FeedFilter, LiveFrame } from "../bindings/protocol";
import type { OperatorSession } from "./api";

export type LiveState = "connecting" | "live" | "retrying" | "ended";

/** Close codes after which trying again cannot help: the session ended or was refused. */
const FINAL = new Set([1008]);

export class LiveSocket {
  private ws: WebSocket | null = null;
  private filter: FeedFilter = {};
  private delay = 1_000;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly session: OperatorSession,
    private readonly onFrame: (f: LiveFrame) => void,
    private readonly onState: (s: LiveState, why?: string) => void,
  ) {
    this.open();
  }

  /** Narrows the feed; answered by a `feed` frame with `replace: true`. */
  setFilter(filter: FeedFilter): void {
    this.filter = filter;
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify({ type: "filter", filter }));
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000);
  }

  private open(): void {
    const url = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/v1/operators/live`;
    this.onState("connecting");
    const ws = new WebSocket(url, ["tally.operator.v1", `bearer.${this.session.token}`]);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 1_000;
      this.onState("live");
      if (Object.keys(this.filter).length) ws.send(JSON.stringify({ type: "filter", filter: this.filter }));
    };
    ws.onmessage = (m) => {
      try {
        this.onFrame(JSON.parse(String(m.data)) as LiveFrame);
      } catch {
        // A frame that is not JSON is the hub's bug, not something to show; the next one will do.
      }
    };
    ws.onclose = (e) => {
      if (this.stopped) return;
      if (FINAL.has(e.code)) {
        this.onState("ended", "Your session has ended: sign in again.");
        return;
      }
      const wait = this.delay * (0.5 + Math.random() / 2);
      this.delay = Math.min(this.delay * 2, 30_000);
      this.onState("retrying", `Reconnecting in ${Math.ceil(wait / 1000)} s`);
      this.timer = setTimeout(() => this.open(), wait);
    };
  }
}
