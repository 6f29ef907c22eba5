// What the header's connection pill says for each ConnState. Pure, so it is unit-tested.
import type { ConnState } from "../bindings/app";
import { formatTime } from "./dates";
import { userLocale } from "./money";

export type PillTone = "live" | "busy" | "offline" | "error";
export type PillAction = "retry" | "sign_in" | null;

export interface PillModel {
  tone: PillTone;
  /** Main text, e.g. "Live · 23 ms". */
  text: string;
  /** Optional action button shown after the text. */
  action: PillAction;
  actionLabel: string;
  /** Longer explanation for the tooltip and screen readers. */
  detail: string;
}

/** A wait shorter than this shows "Reconnecting…", not a countdown that would flicker through 1–2 s. */
export const COUNTDOWN_FROM_MS = 3_000;

/**
 * `since`: when this state arrived. A countdown only goes down: it is counted from no earlier than
 * `since` (a clock that ticked before the state arrived cannot make it rise), and only for waits of
 * `COUNTDOWN_FROM_MS` or more.
 */
export function connPill(conn: ConnState, now = Date.now(), locale = userLocale(), since: number | null = null): PillModel {
  switch (conn.state) {
    case "live": {
      const ms = conn.latency_ms;
      return {
        tone: "live",
        text: ms === null ? "Live" : `Live · ${new Intl.NumberFormat(locale).format(ms)} ms`,
        action: null,
        actionLabel: "",
        detail: "Connected: balances, payments and messages update in real time.",
      };
    }
    case "connecting":
      return { tone: "busy", text: "Connecting…", action: null, actionLabel: "", detail: "Connecting to the Tally server." };
    case "authenticating":
      return { tone: "busy", text: "Signing in…", action: null, actionLabel: "", detail: "Checking your session with the server." };
    case "backing_off": {
      const from = since === null ? now : Math.max(now, since);
      const counted = since === null || conn.retry_at - since >= COUNTDOWN_FROM_MS;
      const secs = counted ? Math.max(0, Math.ceil((conn.retry_at - from) / 1000)) : 0;
      const retry = secs > 0 ? `retrying in ${new Intl.NumberFormat(locale).format(secs)} s` : "retrying…";
      // Past a blip (a second failed attempt): say plainly that this is saved data, and since when.
      if (conn.attempt >= 2 && conn.offline_since !== null) {
        return {
          tone: "offline",
          text: `Offline since ${formatTime(conn.offline_since, locale)} — showing saved data`,
          action: "retry",
          actionLabel: "Retry",
          detail: `Connection lost (${conn.last_error || "network error"}); ${retry}. What you see was saved on this device; payments you make are queued.`,
        };
      }
      return {
        tone: "busy",
        text: secs > 0 ? `Reconnecting in ${new Intl.NumberFormat(locale).format(secs)} s` : "Reconnecting…",
        action: "retry",
        actionLabel: "Retry",
        detail: `Connection lost (${conn.last_error || "network error"}); attempt ${conn.attempt}. Showing saved data meanwhile.`,
      };
    }
    case "offline":
      return {
        tone: "offline",
        text:
          conn.since === null
            ? "Offline — showing saved data"
            : `Offline since ${formatTime(conn.since, locale)} — showing saved data`,
        action: "retry",
        actionLabel: "Retry",
        detail: "No connection. What you see was saved on this device; payments you make are queued.",
      };
    case "auth_failed":
      return {
        tone: "error",
        text: "Signed out",
        action: "sign_in",
        actionLabel: "Sign in again",
        detail: `The server did not accept your session (${conn.reason}). Sign in again to reconnect.`,
      };
    case "closed":
      return {
        tone: "error",
        text: "Disconnected",
        action: null,
        actionLabel: "",
        detail: conn.reason || "The connection was closed and will not retry automatically.",
      };
  }
}

/** Whether data on screen is a saved copy (shows "as of" times). */
export function isLive(conn: ConnState): boolean {
  return conn.state === "live";
}
