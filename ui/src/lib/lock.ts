// The app lock's rules and words, as the engine has them (crates/client/src/engine/app_lock.rs): a PIN of
// 4 to 12 digits, locking after 1 to 240 minutes out of sight, and ten wrong PINs in a row before the
// account is signed out and this device's data deleted. The screens are LockScreen.svelte and
// AppLockPart.svelte; the state is lib/lock.svelte.ts.

export const PIN_MIN = 4;
export const PIN_MAX = 12;
export const MAX_ATTEMPTS = 10;

import { t } from "./i18n.svelte";

/** The choices Settings offers (minutes out of sight before the app locks). */
export const LOCK_MINUTES: readonly number[] = [1, 5, 15, 60];
export const DEFAULT_LOCK_MINUTES = 5;

/** What a PIN field keeps of what was typed or pasted: digits only, at most PIN_MAX. */
export function pinDigits(s: string): string {
  return s.replace(/\D/g, "").slice(0, PIN_MAX);
}

/** Why `pin` can't be a PIN, or null. */
export function pinProblem(pin: string): string | null {
  if (pin.length === 0) return t("lock.enter_pin");
  if (!/^\d+$/.test(pin)) return t("lock.digits_only");
  if (pin.length < PIN_MIN || pin.length > PIN_MAX) return t("lock.length", { min: PIN_MIN, max: PIN_MAX });
  return null;
}

/** A new PIN, typed twice: what is wrong and on which field, or null. */
export function newPinProblem(pin: string, confirm: string): { field: "pin" | "confirm"; text: string } | null {
  const p = pinProblem(pin);
  if (p) return { field: "pin", text: p };
  if (/^(\d)\1+$/.test(pin)) return { field: "pin", text: t("lock.repeat") };
  if (isRun(pin)) return { field: "pin", text: t("lock.run") };
  if (confirm !== pin) return { field: "confirm", text: confirm ? t("lock.no_match") : t("lock.again") };
  return null;
}

/** 0123…, 9876…: each digit one up (or one down) from the last. */
function isRun(pin: string): boolean {
  const d = [...pin].map(Number);
  const steps = d.slice(1).map((x, i) => x - d[i]);
  return steps.every((s) => s === 1) || steps.every((s) => s === -1);
}

/** "1 minute", "5 minutes", "1 hour", "2 hours", "90 minutes". */
export function minutesLabel(m: number): string {
  if (m >= 60 && m % 60 === 0) return t("lock.hours", { count: m / 60 });
  return t("lock.minutes", { count: m });
}

/** The same, short, for a row of choices: "1 min", "15 min", "1 hour", "2 h". */
export function minutesShort(m: number): string {
  if (m >= 60 && m % 60 === 0) return m === 60 ? t("lock.hour_short") : t("lock.hours_short", { n: m / 60 });
  return t("lock.min_short", { n: m });
}

/** The choices for the minutes, with the one in use among them (set elsewhere to another value). */
export function minutesOptions(current: number | null): number[] {
  const all = new Set(LOCK_MINUTES);
  if (current !== null && current >= 1 && current <= 240) all.add(current);
  return [...all].sort((a, b) => a - b);
}

/** The engine's "wrong PIN; 7 attempts left before …": 7, or null when the message does not say. */
export function attemptsLeftFrom(message: string): number | null {
  const m = /(\d+)\s+attempts?\s+left/i.exec(message);
  return m ? Number(m[1]) : null;
}

/** What the lock screen says after a wrong PIN. */
export function attemptsText(left: number): string {
  if (left <= 0) return t("lock.no_attempts");
  return t("lock.wrong_left", { count: left });
}

/** Only a warning when few attempts are left (the hint is shown from the first wrong PIN). */
export function attemptsUrgent(left: number): boolean {
  return left <= 3;
}

export type UnlockOutcome =
  /** The PIN was wrong; `left`: attempts before the wipe (null: unknown). */
  | { kind: "wrong"; left: number | null }
  /** Ten wrong PINs: signed out, this device's data deleted. */
  | { kind: "wiped" }
  /** Something else went wrong (keychain, IPC): nothing counted. */
  | { kind: "error" };

/** What a rejected `unlock` means. */
export function unlockOutcome(err: { code: string; message: string }): UnlockOutcome {
  if (err.code === "locked") return { kind: "wrong", left: attemptsLeftFrom(err.message) };
  if (err.code === "auth" || err.code === "not_signed_in") return { kind: "wiped" };
  return { kind: "error" };
}

/** Settings' one line about the lock in use. */
export function lockSummary(enabled: boolean, afterMinutes: number): string {
  return enabled
    ? t("lock.summary_on", { time: minutesLabel(afterMinutes) })
    : t("lock.summary_off");
}

// ---- Settings → Security → App lock ----

/** Turning the lock on, changing its PIN or minutes, or turning it off. */
export type LockMode = "on" | "change" | "off";
export type LockField = "current" | "pin" | "confirm";

export interface LockForm {
  current: string;
  pin: string;
  confirm: string;
  minutes: number;
}

/** `set_app_lock`'s arguments. */
export interface LockRequest {
  pin: string | null;
  after_minutes: number;
  current: string | null;
}

export type LockFormResult = { ok: LockRequest } | { field: LockField | null; text: string };

/**
 * The form's `set_app_lock` call, or what to fix first. `was`: the minutes in use. Changing keeps the
 * PIN in use when no new one is typed (the engine takes the PIN to set, so that is the current one).
 */
export function lockRequest(mode: LockMode, f: LockForm, was: number): LockFormResult {
  if (mode !== "on") {
    if (!f.current) return { field: "current", text: t("lock.enter_current") };
    const p = pinProblem(f.current);
    if (p) return { field: "current", text: t("lock.wrong_current") };
  }
  if (mode === "off") return { ok: { pin: null, after_minutes: was, current: f.current } };
  if (mode === "on") {
    const p = newPinProblem(f.pin, f.confirm);
    if (p) return p;
    return { ok: { pin: f.pin, after_minutes: f.minutes, current: null } };
  }
  // change
  if (f.pin || f.confirm) {
    const p = newPinProblem(f.pin, f.confirm);
    if (p) return p;
    if (f.pin === f.current) return { field: "pin", text: t("lock.same") };
  } else if (f.minutes === was) {
    return { field: null, text: t("lock.nothing_changed") };
  }
  return { ok: { pin: f.pin || f.current, after_minutes: f.minutes, current: f.current } };
}

/** A rejected `set_app_lock`: the field it is about and what to say (null field: a general problem). */
export function lockSetError(err: { code: string; message: string }, describe: (e: unknown) => string): { field: LockField | null; text: string } {
  if (err.code === "invalid_input") {
    if (/current pin/i.test(err.message)) return { field: "current", text: t("lock.wrong_current") };
    if (/pin/i.test(err.message)) return { field: "pin", text: sentence(err.message) };
    return { field: null, text: sentence(err.message) };
  }
  return { field: null, text: describe(err) };
}

function sentence(s: string): string {
  const text = s.trim();
  if (!text) return t("errors.invalid");
  return text[0].toUpperCase() + text.slice(1) + (/[.!?]$/.test(text) ? "" : ".");
}
