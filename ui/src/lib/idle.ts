// Auto-away: no input for a while → `away`; the next input → back to what the user chose. Pure (no DOM,
// no IPC): the caller feeds input in and passes the command that sets the status.
import type { PresenceStatus } from "../bindings/protocol";

export const IDLE_MS = 10 * 60_000;
/** A failed restore is retried on input, at most this often (offline: don't flood the engine). */
export const RETRY_MS = 15_000;

export interface IdleTimer {
  /** Input happened. Returns true when it ended an idle spell. */
  poke(): boolean;
  readonly idle: boolean;
  stop(): void;
}

/** Calls `onIdle` once `ms` pass without `poke()`. One timer, re-armed lazily (input is cheap). */
export function idleTimer(ms: number, onIdle: () => void, now: () => number = Date.now): IdleTimer {
  let last = now();
  let idle = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (wait: number) => (timer = setTimeout(check, wait));
  function check() {
    timer = undefined;
    const left = last + ms - now();
    if (left > 0) return void arm(left);
    idle = true;
    onIdle();
  }
  arm(ms);
  return {
    poke() {
      last = now();
      if (!idle) return false;
      idle = false;
      arm(ms);
      return true;
    },
    get idle() {
      return idle;
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
    },
  };
}

export interface AutoAwayOptions {
  ms?: number;
  /** The status the user chose (only `online` is ever changed). */
  chosen: () => PresenceStatus;
  /** Sets the status on the hub (`set_presence`); rejects on failure. */
  send: (status: PresenceStatus) => Promise<unknown>;
  /** Auto-away was in effect when the app last closed: restore on the first input. */
  away?: boolean;
  /** Told whenever auto-away starts or ends. */
  onAway?: (away: boolean) => void;
  now?: () => number;
}

export interface AutoAway {
  /** Pointer, keyboard, touch, wheel, or the window shown again. */
  input(): void;
  /** An explicit choice: sent in order with the automatic ones; ends auto-away. */
  choose(status: PresenceStatus): Promise<void>;
  readonly away: boolean;
  stop(): void;
}

export function autoAway(o: AutoAwayOptions): AutoAway {
  const now = o.now ?? Date.now;
  let away = o.away ?? false;
  let restoring = false;
  let tried = -Infinity;
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = queue.then(f);
    queue = p.catch(() => {});
    return p;
  };
  const mark = (v: boolean) => {
    if (away !== v) o.onAway?.(v);
    away = v;
  };

  async function goAway() {
    if (away || o.chosen() !== "online") return;
    await o.send("away").then(() => mark(true), () => {});
  }
  async function comeBack() {
    restoring = false;
    if (!away) return;
    if (o.chosen() !== "online") return mark(false);
    await o.send("online").then(() => mark(false), () => {}); // still away: the next input retries
  }

  const timer = idleTimer(o.ms ?? IDLE_MS, () => void serial(goAway), now);
  return {
    input() {
      const woke = timer.poke();
      if (restoring || !(woke || (away && now() - tried >= RETRY_MS))) return;
      restoring = true;
      tried = now();
      void serial(comeBack);
    },
    choose: (status) =>
      serial(async () => {
        await o.send(status);
        mark(false);
      }),
    get away() {
      return away;
    },
    stop: () => timer.stop(),
  };
}
