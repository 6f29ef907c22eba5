// What the engine's `toast` events look like on screen. The engine forwards the hub's notification text,
// which writes money as "12.34 USD" (the hub's `fmt_money`); here that becomes the app's one money format
// ("$12.34", through formatMoney), the icon follows the direction (money in or out), and the hub's echo
// of a payment this device just sent, which Send has already announced, is recognised so a sent payment
// shows one toast.
import type { TransferView } from "../bindings/app";
import type { NotificationKind, NotificationText } from "../bindings/protocol";
import type { IconName } from "./icons";
import { formatMoney, fractionDigits } from "./money";
import { wordNotification } from "./notification-words";
import type { ToastTone } from "./store.svelte";

/** One payment as the hub's text names it: amount and the other person's display name. */
export interface PaymentRef {
  minor: number;
  currency: string;
  name: string;
}

/** An engine toast, ready to show. */
export interface ToastView {
  tone: ToastTone;
  icon: IconName;
  title: string;
  body: string;
  /** Same key, same event: a repeat refreshes the toast on screen instead of adding one. */
  key: string;
  /** The user's own payment that completed (the hub's "… sent to …"). */
  sent?: PaymentRef;
}

let known: Set<string> | null | undefined;
function isCurrency(code: string): boolean {
  if (known === undefined) {
    try {
      const values = (Intl as { supportedValuesOf?: (k: string) => string[] }).supportedValuesOf?.("currency");
      known = values ? new Set(values) : null;
    } catch {
      known = null;
    }
  }
  if (known) return known.has(code);
  try {
    new Intl.NumberFormat("en", { style: "currency", currency: code });
    return true;
  } catch {
    return false;
  }
}

/**
 * "12.34" of a currency with 2 minor digits → 1234, exactly (string math). Null unless the text has
 * exactly the currency's digits, as the hub writes it ("1234.50 USD", "500 JPY", "1.250 BHD").
 */
export function hubAmountToMinor(amount: string, currency: string): number | null {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(amount);
  if (!m || !isCurrency(currency)) return null;
  const digits = fractionDigits(currency);
  const frac = m[3] ?? "";
  if (frac.length !== digits) return null;
  const minor = Number(m[2] + frac);
  if (!Number.isSafeInteger(minor)) return null;
  return m[1] ? -minor : minor;
}

// An amount followed by an ISO 4217 code, standing alone ("12.34 USD", "-5.00 EUR", "500 JPY"). No
// lookbehind (older WebKitGTK lacks it): the character before is captured and put back.
const MONEY_TEXT = /(^|[^\w.,])(-?\d+(?:\.\d+)?) ([A-Z]{3})(?!\w)/g;

/** Rewrites the hub's "12.34 USD" amounts in a text into the app's money format ("$12.34"). */
export function formatMoneyText(text: string, locale?: string): string {
  return text.replace(MONEY_TEXT, (whole, before: string, amount: string, currency: string) => {
    const minor = hubAmountToMinor(amount, currency);
    return minor === null ? whole : before + formatMoney(minor, currency, locale ? { locale } : {});
  });
}

/** The first amount in the hub's text, as minor units. */
function firstAmount(text: string): { minor: number; currency: string } | null {
  for (const m of text.matchAll(MONEY_TEXT)) {
    const minor = hubAmountToMinor(m[2], m[3]);
    if (minor !== null) return { minor, currency: m[3] };
  }
  return null;
}

const SENT = /^(-?\d+(?:\.\d+)? [A-Z]{3}) sent to (.+)$/;
const FAILED = /^Transfer of (-?\d+(?:\.\d+)? [A-Z]{3}) to (.+) failed$/;

/** Kinds whose body is the hub's own sentence (not someone's memo or message, which stay verbatim). */
const HUB_BODY: ReadonlySet<NotificationKind> = new Set(["limits", "balance", "security", "system", "kyc", "card"]);

const OUT_KINDS: ReadonlySet<NotificationKind> = new Set(["transfer", "withdrawal"]);
const IN_KINDS: ReadonlySet<NotificationKind> = new Set(["payment", "deposit", "payment_request"]);

/**
 * A notification's title and body as the app shows them: in the app's words where the hub sent its text
 * as data (lib/notification-words.ts); else the hub's, with its "9.14 USD" in the app's money format
 * ("$9.14"), in its title and in the bodies the hub writes; people's names, memos and messages as they
 * are. The engine applies the same rules to native notifications (crates/client/src/display.rs).
 */
export function notificationText(
  n: { kind: NotificationKind; title: string; body: string; text?: NotificationText },
  locale?: string,
): { title: string; body: string } {
  const worded = wordNotification(n.text, n.body, locale);
  if (worded) return worded;
  const personal = n.kind === "message" || n.kind === "mention";
  return {
    title: personal ? n.title : formatMoneyText(n.title, locale),
    body: HUB_BODY.has(n.kind) ? formatMoneyText(n.body, locale) : n.body,
  };
}

/** How an engine `toast` event is shown: tone, icon, text in the app's money format, and its key. */
export function presentEngineToast(
  ev: { kind: NotificationKind; title: string; body: string; text?: NotificationText },
  locale?: string,
): ToastView {
  const { title, body } = notificationText(ev, locale);
  const key = `engine\n${ev.kind}\n${ev.title}\n${ev.body}`;
  const text = ev.text;
  if (text?.key === "transfer_failed") return { tone: "error", icon: "alert", title, body, key };
  if (text?.key === "payment_sent") {
    const sent = { minor: text.amount.minor, currency: text.amount.currency, name: text.to };
    return { tone: "money", icon: "out", title, body, key, sent };
  }
  if (ev.kind === "transfer" && !text) {
    const failed = FAILED.exec(ev.title);
    if (failed) return { tone: "error", icon: "alert", title, body, key };
    const sent = SENT.exec(ev.title);
    const amt = sent ? firstAmount(sent[1]) : null;
    if (sent && amt) return { tone: "money", icon: "out", title, body, key, sent: { ...amt, name: sent[2] } };
  }
  if (OUT_KINDS.has(ev.kind)) return { tone: "money", icon: "out", title, body, key };
  if (IN_KINDS.has(ev.kind)) return { tone: "money", icon: "in", title, body, key };
  switch (ev.kind) {
    case "message":
    case "mention":
      return { tone: "message", icon: "chat", title, body, key };
    case "security":
    case "limits":
      return { tone: "error", icon: ev.kind === "security" ? "shield" : "alert", title, body, key };
    case "balance":
    case "transaction":
      return { tone: "money", icon: "wallet", title, body, key };
    default:
      return { tone: "info", icon: "bell", title, body, key };
  }
}

// ---- the user's own payments: Send announces them, so the hub's "sent to" echo is not a second toast ----

const ECHO_WINDOW_MS = 10 * 60_000;
const announced: (PaymentRef & { at: number })[] = [];

/**
 * Remembers a payment this device sent (from `send_money`'s answer) that Send announced as sent
 * (not queued: a queued payment going out later is news of its own).
 */
export function rememberSentPayment(tv: TransferView, queued: boolean, now = Date.now()): void {
  if (queued) return;
  while (announced.length && now - announced[0].at > ECHO_WINDOW_MS) announced.shift();
  const t = tv.transfer;
  announced.push({ minor: t.amount.minor, currency: t.amount.currency, name: t.to.display_name, at: now });
}

/** Whether this completed payment is one Send already announced (consumed: each is matched once). */
export function isAnnouncedPayment(p: PaymentRef, now = Date.now()): boolean {
  const i = announced.findIndex(
    (a) => now - a.at <= ECHO_WINDOW_MS && a.minor === p.minor && a.currency === p.currency && a.name === p.name,
  );
  if (i < 0) return false;
  announced.splice(i, 1);
  return true;
}

/** For tests. */
export function forgetSentPayments(): void {
  announced.length = 0;
}
