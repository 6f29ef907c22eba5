import type { PresenceStatus, UserSummary } from "../bindings/protocol";
import { bidiSafe } from "./bidi";
import { formatLastSeen } from "./dates";
import { userLocale } from "./money";
import { t } from "./i18n.svelte";

/** "Alice Adams" → "AA"; "bob" → "B". */
export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return "?";
  const first = [...words[0]][0] ?? "";
  const last = words.length > 1 ? ([...words[words.length - 1]][0] ?? "") : "";
  return (first + last).toLocaleUpperCase();
}

// Avatar backgrounds: all carry white text at ≥ 4.5:1.
const PALETTE = ["#4f46e5", "#0f766e", "#b45309", "#be185d", "#1d4ed8", "#7e22ce", "#15803d", "#b91c1c"];

export function avatarColor(seed: string): string {
  let h = 0;
  for (const ch of seed) h = (h * 31 + ch.codePointAt(0)!) >>> 0;
  return PALETTE[h % PALETTE.length];
}

export function displayName(u: UserSummary | null | undefined): string {
  if (!u) return "Tally";
  // Someone else's text: without bidi overrides (see bidi.ts); render it in a <bdi>.
  return bidiSafe(u.display_name) || u.username;
}

/** "Online", "Away", … in the UI's language. */
export function presenceLabel(s: PresenceStatus): string {
  return t(`presence.${s}`);
}

/** The status inside a sentence: "online", "away", "busy". */
function presenceWord(s: "online" | "away" | "busy"): string {
  return t(`presence.line_${s}`);
}

/**
 * A direct room's other member, under their name: "online", "busy", "away", "last seen 14:02" (or
 * "yesterday 14:02", "3 Dec"), "offline" when never seen; null when their presence is unknown.
 */
export function presenceLine(
  presence: PresenceStatus | null,
  lastSeen: number | null,
  now = Date.now(),
  locale = userLocale(),
  stale: Stale = null,
): string | null {
  if (presence === null) return null;
  const present = presence !== "offline" && presence !== "invisible";
  if (stale && present) {
    // Not connected: what they were when the app last knew, and when that was.
    const status = presenceWord(presence);
    return stale.since === null
      ? t("presence.when_last_connected", { status })
      : t("presence.as_of", { status, when: formatLastSeen(stale.since, locale, now) });
  }
  if (present) return presenceWord(presence);
  return lastSeen === null ? t("presence.offline_line") : t("presence.last_seen", { when: formatLastSeen(lastSeen, locale, now) });
}

/** The app is not connected (since when, if it was connected this session): presence is last known only. */
export type Stale = { since: number | null } | null;

/** "Bob is typing…", "Bob and Carol are typing…", "3 people are typing…" */
export function typingText(users: UserSummary[]): string {
  const names = users.map((u) => displayName(u).split(" ")[0] || u.username);
  if (names.length === 0) return "";
  if (names.length === 1) return t("typing.one", { name: names[0] });
  if (names.length === 2) return t("typing.two", { a: names[0], b: names[1] });
  return t("typing.many", { n: names.length });
}
