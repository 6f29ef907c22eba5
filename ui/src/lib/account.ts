// The account screens' logic: sign-up and sign-in errors turned into a sentence for the field they are
// about, two-factor codes as the hub compares them, the recovery-codes file, and the device list. The hub
// decides (password rules, codes, policy); this only says its answers in the UI's words.
import type { DeviceSession } from "../bindings/app";
import { toCommandError } from "./api";
import { formatDateTime } from "./dates";
import { t } from "./i18n.svelte";

/** A hub message as a sentence: capital first letter, full stop at the end. */
export function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const s = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?…]$/.test(s) ? s : `${s}.`;
}

/**
 * The hub's `invalid` messages name their field first ("password: too easy to guess (…); …",
 * "username: 2-32 characters of …"): the field, and the rest as a sentence.
 */
export function splitFieldMessage(message: string): { field: string | null; text: string } {
  const m = /^([a-z_]+):\s*(.+)$/s.exec(message.trim());
  if (m) return { field: m[1], text: sentence(m[2]) };
  return { field: null, text: sentence(message) };
}

export type SignUpField = "server" | "username" | "display_name" | "password" | "invite" | null;

/** What a failed `sign_up` says, and the field to mark and focus. */
export function signUpError(e: unknown, describe: (e: unknown) => string): { text: string; field: SignUpField } {
  const err = toCommandError(e);
  switch (err.code) {
    case "invalid": {
      const { field, text } = splitFieldMessage(err.message);
      if (field === "password") return { text, field: "password" };
      if (field === "username") return { text: t("account.username_error", { detail: lowerFirst(text) }), field: "username" };
      if (field === "display_name") return { text: t("account.display_name_error", { detail: lowerFirst(text) }), field: "display_name" };
      return { text: text || t("errors.invalid"), field: null };
    }
    case "invalid_input":
      return { text: sentence(err.message), field: /password/i.test(err.message) ? "password" : /username/i.test(err.message) ? "username" : "server" };
    case "conflict":
      return { text: t("account.username_taken"), field: "username" };
    case "forbidden": {
      // Closed, an invite needed, or the invite not valid: the hub's sentence says which.
      const text = err.message ? sentence(err.message) : t("account.sign_up_closed");
      return { text, field: /invite/i.test(err.message) ? "invite" : null };
    }
    case "not_found":
      return { text: t("account.no_hub"), field: "server" };
    case "network":
    case "insecure_server":
    case "offline":
      return { text: describe(e), field: "server" };
    default:
      return { text: describe(e), field: null };
  }
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** What the person typed into the code field, as the hub compares it. */
export function normalizeCode(input: string, recovery: boolean): string {
  const typed = input.trim();
  if (recovery) return typed.toLowerCase();
  return typed.replace(/[\s-]/g, "");
}

/** Why a typed code cannot be right (before asking the hub), or null. */
export function codeProblem(input: string, recovery: boolean): string | null {
  const c = normalizeCode(input, recovery);
  if (!c) return recovery ? t("account.enter_recovery") : t("account.enter_code");
  if (recovery) {
    return c.replace(/[^a-z0-9]/g, "").length === 10 ? null : t("account.recovery_shape");
  }
  return /^\d{6}$/.test(c) ? null : t("account.code_shape");
}

/** What a refused two-factor code (sign-in, turning it off) says. */
export function codeError(e: unknown, describe: (e: unknown) => string): string {
  const err = toCommandError(e);
  if (/too many/i.test(err.message) || err.code === "rate_limited") return t("errors.too_many_attempts");
  if (/already used/i.test(err.message)) return t("account.code_used");
  // `unauthorized` from the hub; the engine may also report a refused sign-in code as `auth`.
  if (err.code === "unauthorized" || err.code === "auth" || err.code === "invalid") {
    return t("account.code_wrong");
  }
  return describe(e);
}

/** The recovery-codes file: what they are, for which account, one code a line. */
export function recoveryCodesText(codes: string[], account: { username: string; server: string }, now = Date.now()): string {
  return [
    t("account.codes_file_title"),
    t("account.codes_file_account", { username: account.username, server: account.server }),
    t("account.codes_file_created", { date: formatDateTime(now) }),
    "",
    t("account.codes_file_each"),
    t("account.codes_file_keep"),
    "",
    ...codes,
    "",
  ].join("\n");
}

const PLATFORMS: Record<string, string> = {
  linux: "Linux",
  macos: "macOS",
  windows: "Windows",
  android: "Android",
  ios: "iOS",
  freebsd: "FreeBSD",
};

/** "macos" → "macOS"; unknown names as they are, capitalised. */
export function platformName(p: string): string {
  const k = p.trim().toLowerCase();
  if (!k) return t("account.unknown_system");
  if (k === "web") return t("account.web");
  return PLATFORMS[k] ?? k.charAt(0).toUpperCase() + k.slice(1);
}

/** This device first, then the most recently seen. */
export function sortDevices(list: readonly DeviceSession[]): DeviceSession[] {
  return [...list].sort((a, b) => Number(b.current) - Number(a.current) || b.last_seen_at - a.last_seen_at);
}

/** "2 other devices were signed out", "No other devices were signed in." */
export function otherDevicesText(n: number): string {
  if (n <= 0) return t("account.no_other_devices");
  return t("account.others_signed_out", { count: n });
}

/** The client-side checks of a new password: length and the confirmation. The hub judges strength. */
export function newPasswordProblem(password: string, confirm: string, minChars: number): { field: "password" | "confirm"; text: string } | null {
  if (!password) return { field: "password", text: t("account.choose_password") };
  if ([...password].length < minChars) return { field: "password", text: t("account.min_chars", { min: minChars }) };
  if (confirm !== password) return { field: "confirm", text: t("account.no_match") };
  return null;
}
