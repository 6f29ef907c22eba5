import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PresenceStatus } from "../bindings/protocol";
import { autoAway, IDLE_MS, idleTimer, RETRY_MS } from "./idle";

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

/** Lets the promise queue run (the sends resolve in microtasks). */
const settle = () => vi.advanceTimersByTimeAsync(0);

function setup(chosen: PresenceStatus = "online", opts: { fail?: () => boolean; away?: boolean } = {}) {
  const sent: PresenceStatus[] = [];
  const onAway = vi.fn();
  let mine = chosen;
  const send = vi.fn(async (s: PresenceStatus) => {
    if (opts.fail?.()) throw new Error("offline");
    sent.push(s);
  });
  const ctl = autoAway({ chosen: () => mine, send, away: opts.away, onAway });
  return { ctl, sent, send, onAway, choose: (s: PresenceStatus) => (mine = s) };
}

describe("idleTimer", () => {
  it("fires once after the timeout without input; input postpones it", () => {
    const onIdle = vi.fn();
    const t = idleTimer(1000, onIdle);
    vi.advanceTimersByTime(900);
    expect(t.poke()).toBe(false);
    vi.advanceTimersByTime(900);
    expect(onIdle).not.toHaveBeenCalled();
    vi.advanceTimersByTime(100);
    expect(onIdle).toHaveBeenCalledTimes(1);
    expect(t.idle).toBe(true);
    vi.advanceTimersByTime(5000);
    expect(onIdle).toHaveBeenCalledTimes(1);
    t.stop();
  });

  it("poke() after idling says so and re-arms", () => {
    const onIdle = vi.fn();
    const t = idleTimer(1000, onIdle);
    vi.advanceTimersByTime(1000);
    expect(t.poke()).toBe(true);
    expect(t.idle).toBe(false);
    vi.advanceTimersByTime(1000);
    expect(onIdle).toHaveBeenCalledTimes(2);
    t.stop();
  });

  it("stop() cancels", () => {
    const onIdle = vi.fn();
    idleTimer(1000, onIdle).stop();
    vi.advanceTimersByTime(5000);
    expect(onIdle).not.toHaveBeenCalled();
  });
});

describe("autoAway", () => {
  it("sets away after 10 minutes without input and online again on the next input", async () => {
    const { ctl, sent, onAway } = setup("online");
    await vi.advanceTimersByTimeAsync(IDLE_MS - 1);
    ctl.input(); // input resets the clock
    await vi.advanceTimersByTimeAsync(IDLE_MS - 1);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual(["away"]);
    expect(ctl.away).toBe(true);
    expect(onAway).toHaveBeenLastCalledWith(true);
    ctl.input();
    ctl.input();
    await settle();
    expect(sent).toEqual(["away", "online"]);
    expect(ctl.away).toBe(false);
    expect(onAway).toHaveBeenLastCalledWith(false);
    ctl.stop();
  });

  it.each(["busy", "invisible", "away"] as const)("never overrides an explicit %s", async (s) => {
    const { ctl, sent } = setup(s);
    await vi.advanceTimersByTimeAsync(IDLE_MS * 3);
    ctl.input();
    await settle();
    expect(sent).toEqual([]);
    ctl.stop();
  });

  it("input while the away call is in flight still restores, in order", async () => {
    const { ctl, sent } = setup("online");
    vi.advanceTimersByTime(IDLE_MS); // idle fired; the send has not resolved yet
    ctl.input();
    await settle();
    expect(sent).toEqual(["away", "online"]);
    expect(ctl.away).toBe(false);
    ctl.stop();
  });

  it("a failed away call leaves nothing to restore", async () => {
    let fail = true;
    const { ctl, sent, send } = setup("online", { fail: () => fail });
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(ctl.away).toBe(false);
    fail = false;
    ctl.input();
    await settle();
    expect(send).toHaveBeenCalledTimes(1);
    expect(sent).toEqual([]);
    ctl.stop();
  });

  it("a failed restore is retried on later input, at most every RETRY_MS", async () => {
    let fail = false;
    const { ctl, sent, send } = setup("online", { fail: () => fail });
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    fail = true;
    ctl.input();
    await settle();
    expect(ctl.away).toBe(true);
    for (let i = 0; i < 20; i++) ctl.input();
    await settle();
    expect(send).toHaveBeenCalledTimes(2); // away + one failed restore
    fail = false;
    await vi.advanceTimersByTimeAsync(RETRY_MS);
    ctl.input();
    await settle();
    expect(sent).toEqual(["away", "online"]);
    expect(ctl.away).toBe(false);
    ctl.stop();
  });

  it("restores on the first input when the app closed while auto-away", async () => {
    const { ctl, sent } = setup("online", { away: true });
    ctl.input();
    await settle();
    expect(sent).toEqual(["online"]);
    ctl.stop();
  });

  it("an explicit choice is sent in order and ends auto-away", async () => {
    const { ctl, sent, choose } = setup("online");
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    const done = ctl.choose("busy").then(() => choose("busy"));
    await done;
    expect(sent).toEqual(["away", "busy"]);
    expect(ctl.away).toBe(false);
    await vi.advanceTimersByTimeAsync(IDLE_MS * 2);
    ctl.input();
    await settle();
    expect(sent).toEqual(["away", "busy"]);
    ctl.stop();
  });

  it("a failed explicit choice rejects and keeps the queue going", async () => {
    let fail = true;
    const { ctl, sent } = setup("online", { fail: () => fail });
    await expect(ctl.choose("busy")).rejects.toThrow("offline");
    fail = false;
    await vi.advanceTimersByTimeAsync(IDLE_MS);
    expect(sent).toEqual(["away"]);
    ctl.stop();
  });
});
