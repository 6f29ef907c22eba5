// App-wide view state. It holds no domain truth: the session, connection and counters mirror what the
// Rust side reports; everything else is read from commands by the screens that show it.
import type { Change, CommandError, ConnState, Prefs, SessionInfo, UnreadCounts } from "../bindings/app";
import type { Money, NotificationTarget, PresenceStatus, Transaction } from "../bindings/protocol";
import type { IconName } from "./icons";
import { t } from "./i18n.svelte";

export type View = "home" | "history" | "send" | "chat" | "notifications" | "settings";

export const VIEWS: readonly View[] = ["home", "history", "send", "chat", "notifications", "settings"];

export interface Route {
  view: View;
  room?: number | null;
  message?: number | null;
  /** Prefill for History's search box. */
  search?: string | null;
  /** Prefill for Send's recipient. */
  sendTo?: string | null;
  /** Send opened from a group: who may be paid there (its other members). `room` is the conversation. */
  among?: string[] | null;
  /** Send opened from a tally://pay link: its amount and note (`at` tells two openings apart). */
  link?: { amount: Money | null; memo: string; at: number } | null;
  /** Settings opened to start turning on two-factor sign-in (the server requires it). */
  security?: "two_factor" | null;
}

export type ToastTone = "success" | "error" | "info" | "money" | "message";

export interface Toast {
  id: number;
  tone: ToastTone;
  title: string;
  body: string;
  /** The icon, when the tone's default would say less (money in or out). */
  icon?: IconName;
  /** What makes two toasts the same event (default: tone, title and body). */
  key: string;
  action?: { label: string; run: () => void };
}

export interface ToastOptions {
  icon?: IconName;
  /** The event's identity; a toast with the same key is not shown twice. */
  key?: string;
  /**
   * How long after it first showed a repeat of the same key is still the same event, even if the first
   * was dismissed or timed out (0, the default: only while it is on screen). For events from the engine,
   * which may reach the app more than once.
   */
  sameFor?: number;
}

/** Something that went wrong outside any command (the `problem` event): shown until dismissed. */
export interface Problem {
  id: number;
  code: string;
  message: string;
}

export type Detail = { kind: "transfer" | "transaction"; id: number; tx?: Transaction };

class AppState {
  /** `undefined` until the startup `session` call answered. */
  session = $state<SessionInfo | null | undefined>(undefined);
  conn = $state<ConnState>({ state: "offline", since: null });
  unread = $state<UnreadCounts>({ notifications: 0, chat: 0 });
  route = $state<Route>({ view: "home" });
  toasts = $state<Toast[]>([]);
  /** Text for the polite live region (incoming money, messages, action results). */
  announcement = $state("");
  prefs = $state<Prefs | null>(null);
  /** Wall clock, ticking every second (countdowns, relative times). */
  now = $state(Date.now());
  /** The sign-in sheet over the app (after auth_failed). */
  reauth = $state(false);
  detail = $state<Detail | null>(null);
  /** The Request money dialog, open (asking `from`, when chosen already) or closed (null). */
  ask = $state<{ from: string | null; room?: number | null; among?: string[] | null } | null>(null);
  /** The payment request a notification opened: Home shows it first, highlighted. */
  focusRequest = $state<number | null>(null);
  /** Bumped when the effective theme changes (charts re-read colours). */
  themeTick = $state(0);
  /** The status the user chose (Settings), as last accepted by `set_presence`; auto-away never changes it. */
  presence = $state<PresenceStatus>("online");
  problems = $state<Problem[]>([]);
  /**
   * The server requires two-factor sign-in and this account has not turned it on: from `sign_in` /
   * `sign_up` (`must_enrol_two_factor`; `session` always says false) or from `two_factor_status`. The
   * banner leading to Settings → Security shows while it is true.
   */
  mustEnrol = $state(false);
  /** When the current connection state arrived (the pill counts a retry down from it). */
  connAt = $state<number | null>(null);
  /** When the connection was last lost (null while live, or when it never was live this session). */
  lostAt = $state<number | null>(null);
  /** An update downloading (the engine's update_progress events); null when none is. */
  updateProgress = $state<{ downloaded: number; total: number | null } | null>(null);
}

export const app = new AppState();

let toastSeq = 0;
// eslint-disable-next-line svelte/prefer-svelte-reactivity -- timers, not state
const toastTimers = new Map<number, ReturnType<typeof setTimeout>>();

// eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, not state
const toastSeen = new Map<string, { id: number; until: number }>();

const toastLife = (tone: ToastTone) => (tone === "error" ? 9000 : 5000);

/**
 * Shows a toast (and says it in the live region). One toast per event: the same event again — same key,
 * while it is on screen or within `sameFor` — keeps the one shown (its time restarts) instead of stacking
 * a copy.
 */
export function toast(tone: ToastTone, title: string, body = "", action?: Toast["action"], opts: ToastOptions = {}): number {
  const key = opts.key ?? `${tone}\n${title}\n${body}`;
  const now = Date.now();
  for (const [k, seen] of toastSeen) if (seen.until <= now && !app.toasts.some((t) => t.id === seen.id)) toastSeen.delete(k);
  const seen = toastSeen.get(key);
  if (seen) {
    if (app.toasts.some((t) => t.id === seen.id)) scheduleDismiss(seen.id, toastLife(tone));
    return seen.id;
  }
  const id = ++toastSeq;
  toastSeen.set(key, { id, until: now + (opts.sameFor ?? 0) });
  app.toasts = [...app.toasts.slice(-3), { id, tone, title, body, icon: opts.icon, key, action }];
  announce(body ? `${title}. ${body}` : title);
  scheduleDismiss(id, toastLife(tone));
  return id;
}

export function scheduleDismiss(id: number, ms: number): void {
  clearTimeout(toastTimers.get(id));
  toastTimers.set(
    id,
    setTimeout(() => dismissToast(id), ms),
  );
}

export function holdToast(id: number): void {
  clearTimeout(toastTimers.get(id));
  toastTimers.delete(id);
}

export function dismissToast(id: number): void {
  holdToast(id);
  app.toasts = app.toasts.filter((t) => t.id !== id);
}

let problemSeq = 0;

/** Shows a persistent alert; a second problem with the same code replaces the first. */
export function reportProblem(error: CommandError): void {
  const message = error.message || t("errors.unknown");
  const rest = app.problems.filter((p) => p.code !== error.code);
  app.problems = [...rest, { id: ++problemSeq, code: error.code, message }];
}

export function dismissProblem(id: number): void {
  app.problems = app.problems.filter((p) => p.id !== id);
}

export function announce(text: string): void {
  // Clearing first makes screen readers repeat an identical message.
  app.announcement = "";
  queueMicrotask(() => (app.announcement = text));
}

export function navigate(route: Route): void {
  app.route = route;
}

export function openTarget(target: NotificationTarget): void {
  if (target.kind === "room") navigate({ view: "chat", room: target.id, message: target.message ?? null });
  else if (target.kind === "request") {
    app.focusRequest = target.id;
    navigate({ view: "home" });
  } else app.detail = { kind: target.kind, id: target.id };
}

// ---- change bus: screens subscribe and re-read only what they show ----

/**
 * Every topic, for when the UI must re-read everything (after unlocking: nothing could be read while
 * locked). The same list as the engine's `all_changes()` (crates/client/src/view.rs).
 */
export const ALL_CHANGES: readonly Change[] = [
  { topic: "balances" },
  { topic: "transactions" },
  { topic: "transfers" },
  { topic: "rooms" },
  { topic: "presence" },
  { topic: "notifications" },
  { topic: "outbox" },
  { topic: "session" },
  { topic: "sync" },
  { topic: "prefs" },
  { topic: "requests" },
];

export type ChangeHandler = (changes: Change[]) => void;
// eslint-disable-next-line svelte/prefer-svelte-reactivity -- subscribers, not state
const changeHandlers = new Set<ChangeHandler>();

export function onChanges(handler: ChangeHandler): () => void {
  changeHandlers.add(handler);
  return () => changeHandlers.delete(handler);
}

export function dispatchChanges(changes: Change[]): void {
  for (const h of [...changeHandlers]) {
    try {
      h(changes);
    } catch (e) {
      console.error("change handler failed", e);
    }
  }
}

export function hasTopic(changes: Change[], ...topics: Change["topic"][]): boolean {
  return changes.some((c) => topics.includes(c.topic));
}

export function touchesRoom(changes: Change[], room: number): boolean {
  return changes.some((c) => (c.topic === "messages" || c.topic === "typing") && c.room === room);
}

// ---- theme ----

export type Theme = "system" | "light" | "dark";
const THEME_KEY = "tally.theme";

export function applyTheme(theme: string): void {
  const t: Theme = theme === "light" || theme === "dark" ? theme : "system";
  document.documentElement.dataset.theme = t;
  applyScheme();
  try {
    localStorage.setItem(THEME_KEY, t); // only to paint the right theme before prefs load
  } catch {
    /* storage may be unavailable */
  }
}

export function initialTheme(): Theme {
  try {
    const t = localStorage.getItem(THEME_KEY);
    if (t === "light" || t === "dark") return t;
  } catch {
    /* ignore */
  }
  return "system";
}

/** Whether the effective theme is dark (manual override or the OS setting). */
export function isDark(): boolean {
  const t = document.documentElement.dataset.theme;
  if (t === "dark") return true;
  if (t === "light") return false;
  return typeof matchMedia === "function" && matchMedia("(prefers-color-scheme: dark)").matches;
}

/** Puts the scheme in effect on <html data-scheme> (the palettes in app.css key on it); called again when
 * the OS switches between light and dark. */
export function applyScheme(): void {
  document.documentElement.dataset.scheme = isDark() ? "dark" : "light";
  app.themeTick++;
}

/** Presence shown while not connected is last known only (see `presenceLine`); null while live. */
export function presenceStale(): { since: number | null } | null {
  return app.conn.state === "live" ? null : { since: app.lostAt };
}
