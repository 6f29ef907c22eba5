// Dates are UTC milliseconds on the wire; everything shown goes through Intl in the user's locale and zone.
import { userLocale } from "./money";

const cache = new Map<string, Intl.DateTimeFormat>();
function dtf(locale: string, opts: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = locale + JSON.stringify(opts);
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, opts);
    cache.set(key, f);
  }
  return f;
}

/** "09:12" in 24-hour locales, "9:12 AM" in 12-hour ones. */
export function formatTime(ms: number, locale = userLocale()): string {
  const cycle = dtf(locale, { hour: "numeric" }).resolvedOptions().hourCycle;
  const h24 = cycle === "h23" || cycle === "h24";
  return dtf(locale, { hour: h24 ? "2-digit" : "numeric", minute: "2-digit" }).format(ms);
}

/** "12 Mar 2026, 09:12" */
export function formatDateTime(ms: number, locale = userLocale()): string {
  return dtf(locale, { dateStyle: "medium", timeStyle: "short" }).format(ms);
}

/** "12 Mar" (year added when not this year) */
export function formatShortDate(ms: number, locale = userLocale(), now = Date.now()): string {
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return dtf(locale, sameYear ? { day: "numeric", month: "short" } : { day: "numeric", month: "short", year: "numeric" }).format(ms);
}

/** "March 2026" */
export function formatMonth(ms: number, locale = userLocale()): string {
  return dtf(locale, { month: "long", year: "numeric" }).format(ms);
}

/** Local calendar-day key, e.g. "2026-3-12"; equal for two times on the same local day. */
export function dayKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth() + 1}-${d.getDate()}`;
}

export function monthKey(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${d.getMonth() + 1}`;
}

/** Local calendar days from `ms` to `now`: 0 the same day, 1 yesterday (negative in the future). */
export function daysAgo(ms: number, now = Date.now()): number {
  const startOf = (t: number) => {
    const d = new Date(t);
    d.setHours(0, 0, 0, 0);
    return d.getTime();
  };
  return Math.round((startOf(now) - startOf(ms)) / 86_400_000);
}

/** "Today", "Yesterday", or "Thursday, 12 March" (with year when not this year). */
export function formatDay(ms: number, locale = userLocale(), now = Date.now()): string {
  const diffDays = daysAgo(ms, now);
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  if (diffDays === 0 || diffDays === 1) {
    const s = rtf.format(-diffDays, "day");
    return s.charAt(0).toLocaleUpperCase(locale) + s.slice(1);
  }
  const sameYear = new Date(ms).getFullYear() === new Date(now).getFullYear();
  return dtf(locale, sameYear ? { weekday: "long", day: "numeric", month: "long" } : { dateStyle: "full" }).format(ms);
}

/** For "last seen …": "14:02" today (or later), "yesterday 14:02", else "3 Dec" (year added when not this year). */
export function formatLastSeen(ms: number, locale = userLocale(), now = Date.now()): string {
  const days = daysAgo(ms, now);
  if (days <= 0) return formatTime(ms, locale);
  if (days > 1) return formatShortDate(ms, locale, now);
  const yesterday = new Intl.RelativeTimeFormat(locale, { numeric: "auto" }).format(-1, "day");
  return `${yesterday} ${formatTime(ms, locale)}`;
}

/** "in 5 minutes", "2 hours ago" */
export function formatRelative(ms: number, now = Date.now(), locale = userLocale()): string {
  const rtf = new Intl.RelativeTimeFormat(locale, { numeric: "auto" });
  const diff = ms - now;
  const abs = Math.abs(diff);
  if (abs < 60_000) return rtf.format(Math.round(diff / 1000), "second");
  if (abs < 3_600_000) return rtf.format(Math.round(diff / 60_000), "minute");
  if (abs < 86_400_000) return rtf.format(Math.round(diff / 3_600_000), "hour");
  return rtf.format(Math.round(diff / 86_400_000), "day");
}

/** A duration in seconds as words: 300 → "5 minutes". */
export function formatDuration(secs: number, locale = userLocale()): string {
  const unit = secs % 86_400 === 0 ? "day" : secs % 3600 === 0 ? "hour" : secs % 60 === 0 ? "minute" : "second";
  const n = unit === "day" ? secs / 86_400 : unit === "hour" ? secs / 3600 : unit === "minute" ? secs / 60 : secs;
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(n);
}

/** "yyyy-mm-dd" of a local date, for <input type=date>. */
export function toDateInput(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** Start (or end) of a local day given "yyyy-mm-dd"; null when empty or invalid. */
export function fromDateInput(value: string, endOfDay = false): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  if (endOfDay) d.setHours(23, 59, 59, 999);
  const t = d.getTime();
  return Number.isNaN(t) ? null : t;
}

/** Minutes after midnight ↔ "HH:MM" for <input type=time>. */
export function minToTime(min: number): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${p(Math.floor(min / 60) % 24)}:${p(min % 60)}`;
}

export function timeToMin(value: string): number | null {
  const m = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (!m) return null;
  const h = Number(m[1]);
  const mm = Number(m[2]);
  if (h > 23 || mm > 59) return null;
  return h * 60 + mm;
}
