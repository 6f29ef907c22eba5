import { describe, expect, it } from "vitest";
import { connPill } from "./conn";

const NOW = Date.UTC(2026, 0, 5, 9, 30);

describe("connPill", () => {
  it("live shows latency", () => {
    expect(connPill({ state: "live", latency_ms: 23 }, NOW, "en-US")).toMatchObject({ tone: "live", text: "Live · 23 ms", action: null });
    expect(connPill({ state: "live", latency_ms: null }, NOW, "en-US").text).toBe("Live");
    expect(connPill({ state: "live", latency_ms: 1234 }, NOW, "en-US").text).toBe("Live · 1,234 ms");
  });
  it("backing off counts down to retry_at and offers Retry", () => {
    const p = connPill({ state: "backing_off", attempt: 3, retry_at: NOW + 3_200, last_error: "refused", offline_since: null }, NOW, "en-US");
    expect(p).toMatchObject({ tone: "busy", text: "Reconnecting in 4 s", action: "retry", actionLabel: "Retry" });
    expect(p.detail).toContain("refused");
    expect(connPill({ state: "backing_off", attempt: 3, retry_at: NOW - 10, last_error: "", offline_since: null }, NOW, "en-US").text).toBe("Reconnecting…");
  });
  it("offline says since when and that data is saved", () => {
    const since = new Date(2026, 0, 5, 9, 12).getTime();
    expect(connPill({ state: "offline", since }, NOW, "en-GB")).toMatchObject({
      tone: "offline",
      text: "Offline since 09:12 — showing saved data",
    });
    expect(connPill({ state: "offline", since }, NOW, "en-US").text).toBe("Offline since 9:12 AM — showing saved data");
    expect(connPill({ state: "offline", since: null }, NOW, "en-US").text).toBe("Offline — showing saved data");
  });
  it("auth_failed asks to sign in again", () => {
    expect(connPill({ state: "auth_failed", reason: "revoked" }, NOW, "en-US")).toMatchObject({ tone: "error", action: "sign_in", actionLabel: "Sign in again" });
  });
  it("connecting, authenticating and closed", () => {
    expect(connPill({ state: "connecting" }, NOW).text).toBe("Connecting…");
    expect(connPill({ state: "authenticating" }, NOW).text).toBe("Signing in…");
    expect(connPill({ state: "closed", reason: "update required" }, NOW)).toMatchObject({ tone: "error", text: "Disconnected", detail: "update required" });
  });

  it("says Offline since the last live moment once reconnecting is more than a blip", () => {
    const since = new Date(2026, 11, 1, 9, 12).getTime();
    const p = connPill({ state: "backing_off", attempt: 2, retry_at: NOW + 2_000, last_error: "refused", offline_since: since }, NOW, "en-GB");
    expect(p.tone).toBe("offline");
    expect(p.text).toBe("Offline since 09:12 — showing saved data");
    expect(p.detail).toContain("retrying in 2 s");
    const first = connPill({ state: "backing_off", attempt: 1, retry_at: NOW + 2_000, last_error: "refused", offline_since: since }, NOW, "en-GB");
    expect(first.text).toBe("Reconnecting in 2 s");
  });
});

describe("the retry countdown", () => {
  const state = (retry_at: number) => ({ state: "backing_off" as const, attempt: 1, retry_at, last_error: "refused", offline_since: null });
  it("only goes down, even when the clock ticked before the state arrived", () => {
    const since = NOW;
    const wait = state(NOW + 8_000);
    const shown = [NOW - 900, NOW, NOW + 1_000, NOW + 3_500, NOW + 7_200, NOW + 8_100].map((t) => connPill(wait, t, "en-US", since).text);
    expect(shown).toEqual(["Reconnecting in 8 s", "Reconnecting in 8 s", "Reconnecting in 7 s", "Reconnecting in 5 s", "Reconnecting in 1 s", "Reconnecting…"]);
  });
  it("shows no countdown for a wait under three seconds", () => {
    expect(connPill(state(NOW + 1_500), NOW, "en-US", NOW).text).toBe("Reconnecting…");
    expect(connPill(state(NOW + 2_900), NOW + 100, "en-US", NOW).text).toBe("Reconnecting…");
  });
});
