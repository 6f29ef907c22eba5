// What the header's connection pill says for each ConnState. Pure, so it is unit-tested.
import type { ConnState } from "../bindings/app";
import { formatTime } from "./dates";
import { t } from "./i18n.svelte";
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
        text: ms === null ? t("conn.live") : t("conn.live_ms", { ms: new Intl.NumberFormat(locale).format(ms) }),
        action: null,
        actionLabel: "",
        detail: t("conn.live_detail"),
      };
    }
    case "connecting":
      return { tone: "busy", text: t("conn.connecting"), action: null, actionLabel: "", detail: t("conn.connecting_detail") };
    case "authenticating":
      return { tone: "busy", text: t("conn.signing_in"), action: null, actionLabel: "", detail: t("conn.signing_in_detail") };
    case "backing_off": {
      const from = since === null ? now : Math.max(now, since);
      const counted = since === null || conn.retry_at - since >= COUNTDOWN_FROM_MS;
      const secs = counted ? Math.max(0, Math.ceil((conn.retry_at - from) / 1000)) : 0;
      const retry = secs > 0 ? t("conn.retrying_in", { n: new Intl.NumberFormat(locale).format(secs) }) : t("conn.retrying");
      const error = conn.last_error || t("conn.network_error");
      // Past a blip (a second failed attempt): say plainly that this is saved data, and since when.
      if (conn.attempt >= 2 && conn.offline_since !== null) {
        return {
          tone: "offline",
          text: t("conn.offline_since", { time: formatTime(conn.offline_since, locale) }),
          action: "retry",
          actionLabel: t("common.retry"),
          detail: t("conn.lost_detail", { error, retry }),
        };
      }
      return {
        tone: "busy",
        text: secs > 0 ? t("conn.reconnecting_in", { n: new Intl.NumberFormat(locale).format(secs) }) : t("conn.reconnecting"),
        action: "retry",
        actionLabel: t("common.retry"),
        detail: t("conn.attempt_detail", { error, attempt: conn.attempt }),
      };
    }
    case "offline":
      return {
        tone: "offline",
        text:
          conn.since === null
            ? t("conn.offline")
            : t("conn.offline_since", { time: formatTime(conn.since, locale) }),
        action: "retry",
        actionLabel: t("common.retry"),
        detail: t("conn.offline_detail"),
      };
    case "auth_failed":
      return {
        tone: "error",
        text: t("conn.signed_out"),
        action: "sign_in",
        actionLabel: t("app.sign_in_again"),
        detail: t("conn.auth_failed_detail", { reason: conn.reason }),
      };
    case "closed":
      return {
        tone: "error",
        text: t("conn.disconnected"),
        action: null,
        actionLabel: "",
        detail: conn.reason || t("conn.closed_detail"),
      };
  }
}

/** Whether data on screen is a saved copy (shows "as of" times). */
export function isLive(conn: ConnState): boolean {
  return conn.state === "live";
}
