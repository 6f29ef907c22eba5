// Money is integer minor units everywhere (see docs/PROTOCOL.md). Formatting goes through Intl with the
// currency's own fraction digits; parsing user input is string math, never floats.
import type { LimitsView, MoneyAffixes, MoneyStyle } from "../bindings/app";
import type { Limits } from "../bindings/protocol";
import { language, PSEUDO_RTL, t } from "./i18n.svelte";
import { pickLocale } from "./locale";

export { pickLocale };

let cachedLocale: string | undefined;
let cachedFor: string | undefined;

/**
 * The user's locale for Intl, validated: WebKitGTK reports the POSIX locale verbatim, so a system with
 * LANG=C gives "C", which Intl rejects with a RangeError. Anything Intl cannot use falls back to en-US.
 * It is the system's, unless the user picked another language in Settings: then that language with the
 * system's region ("de" on an en-US system → "de-US": German words, "in 5 Minuten", the region's kept).
 */
export function userLocale(): string {
  const lang = language(); // (a rune: formatters follow a change of language)
  if (cachedLocale && cachedFor === lang) return cachedLocale;
  const system = pickLocale(typeof navigator !== "undefined" ? [...(navigator.languages ?? []), navigator.language] : []);
  // The mirrored pseudo-locale formats as Hebrew does: right-to-left dates and words, Latin digits.
  if (lang === PSEUDO_RTL) cachedLocale = "he";
  else cachedLocale = system.split("-")[0] === lang ? system : withRegion(lang, system);
  cachedFor = lang;
  return cachedLocale;
}

function withRegion(lang: string, system: string): string {
  let region: string | undefined;
  try {
    region = new Intl.Locale(system).region;
  } catch {
    region = undefined;
  }
  return pickLocale([region ? `${lang}-${region}` : undefined, lang]);
}


const digitsCache = new Map<string, number>();

/** Minor-unit digits of an ISO-4217 currency (USD 2, JPY 0, BHD 3), from Intl's resolvedOptions. */
export function fractionDigits(currency: string): number {
  const cached = digitsCache.get(currency);
  if (cached !== undefined) return cached;
  let d: number;
  try {
    d = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    d = 2;
  }
  digitsCache.set(currency, d);
  return d;
}

/** "-1234.56" for (-123456, 2): an exact decimal string, no float arithmetic. */
export function minorToDecimalString(minor: number, digits: number): string {
  const neg = minor < 0;
  const abs = BigInt(Math.abs(Math.trunc(minor))).toString();
  if (digits === 0) return (neg ? "-" : "") + abs;
  const padded = abs.padStart(digits + 1, "0");
  const int = padded.slice(0, padded.length - digits);
  const frac = padded.slice(padded.length - digits);
  return `${neg ? "-" : ""}${int}.${frac}`;
}

const fmtCache = new Map<string, Intl.NumberFormat>();
function currencyFormat(locale: string, currency: string, signDisplay: Intl.NumberFormatOptions["signDisplay"], compact: boolean) {
  const key = `${locale}|${currency}|${signDisplay}|${compact}`;
  let f = fmtCache.get(key);
  if (!f) {
    const digits = fractionDigits(currency);
    f = new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      signDisplay,
      // Compact drops zero fractions: "$400", "$1.5K" (a currency's default minimum of 2 digits, capped
      // at the maximum of 1, used to make every axis label "$400.0").
      ...(compact
        ? { notation: "compact", minimumFractionDigits: 0, maximumFractionDigits: 1 }
        : { minimumFractionDigits: digits, maximumFractionDigits: digits }),
    });
    fmtCache.set(key, f);
  }
  return f;
}

export interface FormatOptions {
  locale?: string;
  /** "always" puts a + on positive amounts (incoming money). */
  sign?: "auto" | "always" | "never";
  compact?: boolean;
}

/** Formats integer minor units with Intl, e.g. (123456, "USD") → "$1,234.56". */
export function formatMoney(minor: number, currency: string, opts: FormatOptions = {}): string {
  const locale = opts.locale ?? userLocale();
  const sign = opts.sign === "always" ? "exceptZero" : (opts.sign ?? "auto");
  const digits = fractionDigits(currency);
  const f = currencyFormat(locale, currency, sign, opts.compact ?? false);
  // Intl accepts exact decimal strings (ES2023); older engines convert with Number(), same result here.
  return f.format(minorToDecimalString(minor, digits) as Intl.StringNumericLiteral);
}

/**
 * A chart axis label for a value in major units (what uPlot's scale holds): the money formatter,
 * compact ("$400", "$1.5K", "¥12K"), so axes read like every other amount in the app.
 */
export function formatAxisMoney(major: number, currency: string, locale = userLocale()): string {
  return formatMoney(Math.round(major * 10 ** fractionDigits(currency)), currency, { compact: true, locale });
}

/** A major-unit number for charts only (never for arithmetic on money). */
export function minorToMajorNumber(minor: number, currency: string): number {
  return minor / 10 ** fractionDigits(currency);
}

/** The symbol the locale uses for a currency ("$", "€", "CHF"), for input adornments. */
export function currencySymbol(currency: string, locale = userLocale()): string {
  try {
    const part = new Intl.NumberFormat(locale, { style: "currency", currency })
      .formatToParts(0)
      .find((p) => p.type === "currency");
    return part?.value ?? currency;
  } catch {
    return currency;
  }
}

export function separators(locale = userLocale()): { decimal: string; group: string } {
  const parts = new Intl.NumberFormat(locale).formatToParts(12345.6);
  return {
    decimal: parts.find((p) => p.type === "decimal")?.value ?? ".",
    group: parts.find((p) => p.type === "group")?.value ?? ",",
  };
}

export type ParseResult = { ok: true; minor: number } | { ok: false; error: string };

/**
 * Parses what a person typed ("1,234.5", "1.234,50 €", "12") into integer minor units of `currency`,
 * using the locale's separators. Rejects signs, too many decimals, zero and absurdly large values.
 */
export function parseAmount(input: string, currency: string, locale = userLocale()): ParseResult {
  const digits = fractionDigits(currency);
  const { decimal, group } = separators(locale);
  let s = input.trim();
  if (s === "") return { ok: false, error: t("money.enter_amount") };
  if (/^[-−+]|[-−+]$/.test(s) || s.includes("-") || s.includes("−")) {
    return { ok: false, error: t("money.positive") };
  }
  // Drop currency symbols/codes and every kind of space (grouping in fr, de-CH, …).
  s = s.replace(/[\p{Sc}]/gu, "").replace(new RegExp(`\\b${currency.replace(/[^A-Za-z]/g, "")}\\b`, "gi"), "").replace(/[\s\u00a0\u202f]/g, "");
  if (group !== "." && group !== ",") s = s.split(group).join("");
  s = s.replace(/['’]/g, "");
  if (s === "") return { ok: false, error: t("money.enter_amount") };
  if (!/^[0-9.,]+$/.test(s)) return { ok: false, error: t("money.digits_only", { example: `12${decimal}50` }) };

  const other = decimal === "," ? "." : ",";
  let intPart: string;
  let fracPart = "";
  const splitOn = (sep: string): [string, string] => {
    const i = s.lastIndexOf(sep);
    return [s.slice(0, i), s.slice(i + 1)];
  };
  if (s.includes(decimal)) {
    if (s.split(decimal).length > 2) return { ok: false, error: t("money.two_decimals") };
    [intPart, fracPart] = splitOn(decimal);
    if (!validGrouping(intPart, other)) return { ok: false, error: t("money.grouping") };
    intPart = intPart.split(other).join("");
  } else if (s.includes(other)) {
    const count = s.split(other).length - 1;
    const [head, tail] = splitOn(other);
    if (count === 1 && tail.length !== 3) {
      // "12.5" typed in a comma-decimal locale: one separator not followed by three digits is a decimal point.
      intPart = head;
      fracPart = tail;
    } else {
      if (!validGrouping(s, other)) return { ok: false, error: t("money.grouping") };
      intPart = s.split(other).join("");
    }
  } else {
    intPart = s;
  }
  if (intPart === "") intPart = "0";
  if (!/^\d+$/.test(intPart) || (fracPart !== "" && !/^\d+$/.test(fracPart))) {
    return { ok: false, error: t("money.digits_only", { example: `12${decimal}50` }) };
  }
  if (fracPart.length > digits) {
    return {
      ok: false,
      error: digits === 0 ? t("money.no_decimals", { currency }) : t("money.max_decimals", { digits }),
    };
  }
  const minorStr = (intPart + fracPart.padEnd(digits, "0")).replace(/^0+(?=\d)/, "");
  const big = BigInt(minorStr);
  if (big === 0n) return { ok: false, error: t("money.above_zero") };
  if (big > BigInt(Number.MAX_SAFE_INTEGER)) return { ok: false, error: t("money.too_large") };
  return { ok: true, minor: Number(big) };
}

function validGrouping(s: string, sep: string): boolean {
  if (!s.includes(sep)) return true;
  const groups = s.split(sep);
  return groups[0].length >= 1 && groups[0].length <= 3 && groups.slice(1).every((g) => g.length === 3);
}

/**
 * The user's transfer limits for one currency, in its minor units: what the amount step checks and shows.
 * `null` parts are not known yet (before the first connection, or `remaining` before `limits` answered).
 */
export interface SendLimits {
  /** Largest single payment. */
  single: number | null;
  /** Daily total. */
  daily: number | null;
  /** What is left of today's total (the hub counts the UTC day). */
  remaining: number | null;
}

/**
 * One currency's limits from the `limits` command, or — before it answered — the hub's limits from the
 * session (`welcome`), which know no "left today". Null when neither knows anything.
 */
export function limitsFor(
  view: LimitsView | null,
  currency: string,
  hub: Pick<Limits, "transfer_single_max" | "transfer_daily_max"> | null = null,
): SendLimits | null {
  if (view) {
    const single = view.single_max === null ? null : limitIn(view.single_max, currency);
    const daily = view.daily_max === null ? null : limitIn(view.daily_max, currency);
    let remaining = view.remaining_today.find((m) => m.currency === currency)?.minor ?? null;
    if (remaining === null && daily !== null) {
      // A currency the engine did not list (nothing held, nothing sent): nothing of today's total is used.
      const sent = view.sent_today.find((m) => m.currency === currency)?.minor ?? 0;
      remaining = Math.max(0, daily - sent);
    }
    if (single === null && daily === null && remaining === null) return null;
    return { single, daily, remaining };
  }
  if (hub) return { single: limitIn(hub.transfer_single_max, currency), daily: limitIn(hub.transfer_daily_max, currency), remaining: null };
  return null;
}

/**
 * A limit in `currency`'s minor units. The hub keeps limits in hundredths of a major unit so that one
 * number means the same in every currency (500000: 5,000.00 USD, 5,000 JPY, 5,000.000 BHD); the same rule
 * as the hub's `limit_in` (rounded down).
 */
export function limitIn(hundredths: number, currency: string): number {
  const digits = fractionDigits(currency);
  return digits >= 2 ? hundredths * 10 ** (digits - 2) : Math.floor(hundredths / 10 ** (2 - digits));
}

/** "Up to $1,000.00 per payment · $3,200.00 left today" (the parts that are known), or "" when none is. */
export function limitsSummary(limits: SendLimits | null, currency: string, locale = userLocale()): string {
  if (!limits) return "";
  const parts: string[] = [];
  if (limits.single !== null) parts.push(t("money.up_to", { amount: formatMoney(limits.single, currency, { locale }) }));
  if (limits.remaining !== null) parts.push(t("money.left_today", { amount: formatMoney(limits.remaining, currency, { locale }) }));
  else if (limits.daily !== null) parts.push(t("money.a_day", { amount: formatMoney(limits.daily, currency, { locale }) }));
  return parts.join(" · ");
}

/** The largest amount the amount step accepts: the available balance, capped by the limits. */
export function maxSendable(available: number, limits: SendLimits | null): number {
  let max = Math.max(0, available);
  if (limits?.single != null) max = Math.min(max, limits.single);
  if (limits?.remaining != null) max = Math.min(max, limits.remaining);
  else if (limits?.daily != null) max = Math.min(max, limits.daily);
  return max;
}

/**
 * Checks an amount against what is spendable now and, when known, the user's limits: the single-payment
 * limit and what is left of today's (or, before that is known, the daily total). The hub enforces them
 * too and answers `limit_exceeded`; this says so at the amount step, naming the limit.
 */
export function validateSendAmount(
  minor: number,
  currency: string,
  available: number,
  limits: SendLimits | null,
  locale = userLocale(),
): string | null {
  const money = (m: number) => formatMoney(m, currency, { locale });
  if (minor <= 0) return t("money.above_zero");
  if (minor > available) {
    return t("money.over_available", { amount: money(available) });
  }
  if (limits?.single != null && minor > limits.single) {
    return t("money.over_single", { amount: money(limits.single) });
  }
  if (limits?.remaining != null && minor > limits.remaining) {
    if (limits.remaining <= 0) {
      return limits.daily !== null
        ? t("money.daily_reached_of", { amount: money(limits.daily) })
        : t("money.daily_reached");
    }
    return t("money.only_left", { amount: money(limits.remaining) });
  }
  if (limits?.remaining == null && limits?.daily != null && minor > limits.daily) {
    return t("money.over_daily", { amount: money(limits.daily) });
  }
  return null;
}

/**
 * How this locale writes money, for the engine's native notifications (`set_locale`): the separators,
 * the digit groups, and per currency what Intl puts before and after the digits.
 */
export function moneyStyle(locale = userLocale()): MoneyStyle {
  const parts = (currency: string, n: number) => new Intl.NumberFormat(locale, { style: "currency", currency }).formatToParts(n);
  const sample = parts("USD", 123456789.5);
  const ints = sample.filter((p) => p.type === "integer").map((p) => p.value.length);
  const primary = ints.length > 1 ? ints[ints.length - 1] : 3;
  const secondary = ints.length > 2 ? ints[ints.length - 2] : primary;
  const affixes = (ps: Intl.NumberFormatPart[]) => {
    const num = (p: Intl.NumberFormatPart) => p.type === "integer" || p.type === "group" || p.type === "decimal" || p.type === "fraction";
    const first = ps.findIndex(num);
    const last = ps.length - 1 - [...ps].reverse().findIndex(num);
    const text = (xs: Intl.NumberFormatPart[]) => xs.map((p) => p.value).join("");
    return [text(ps.slice(0, first)), text(ps.slice(last + 1))];
  };
  const codes = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("currency") : ["USD", "EUR", "GBP", "JPY", "CHF"];
  const currencies: Record<string, MoneyAffixes> = {};
  for (const code of codes) {
    if (!/^[A-Z]{3}$/.test(code)) continue;
    const [prefix, suffix] = affixes(parts(code, 1));
    const [negative_prefix, negative_suffix] = affixes(parts(code, -1));
    currencies[code] = { prefix, suffix, negative_prefix, negative_suffix };
  }
  return {
    decimal: sample.find((p) => p.type === "decimal")?.value ?? ".",
    group: sample.find((p) => p.type === "group")?.value ?? "",
    primary,
    secondary,
    currencies,
  };
}

/** The value to show in an amount input for minor units ("1234.5" style, locale decimal separator). */
export function minorToInput(minor: number, currency: string, locale = userLocale()): string {
  const s = minorToDecimalString(minor, fractionDigits(currency));
  return s.replace(".", separators(locale).decimal);
}

const SPACES = [" ", "\u00a0", "\u202f"];

/**
 * Thousands separators while an amount is typed: `prev` is what the field showed, `next` what it holds
 * after the edit, `caret` where the cursor is in `next`. Returns the value with the integer part grouped
 * the locale's way ("1234567.5" → "1,234,567.5"; en-IN "12,34,567"; de-DE "1.234.567,5") and the cursor
 * kept after the same digit.
 *
 * Only separators this function put there are moved: a separator typed or pasted by the person is left as
 * it is (then `parseAmount` decides — "1,5" may be a decimal comma), and so is anything that is not digits
 * and one decimal separator (letters, signs: the error message explains). Backspace on a separator
 * deletes the digit before it (Delete: after it), instead of having the separator put straight back.
 */
export function groupAmountInput(
  prev: string,
  next: string,
  caret: number,
  locale = userLocale(),
  inputType = "",
): { value: string; caret: number } {
  const { decimal, group } = separators(locale);
  const isGroup = (c: string) => c === group || (SPACES.includes(group) && SPACES.includes(c));
  const unchanged = { value: next, caret };

  // The edit: a common prefix and suffix with what was shown, and what was inserted in between.
  let p = 0;
  while (p < prev.length && p < next.length && prev[p] === next[p]) p++;
  let s = 0;
  while (s < prev.length - p && s < next.length - p && prev[prev.length - 1 - s] === next[next.length - 1 - s]) s++;
  const deleted = prev.slice(p, prev.length - s);
  const inserted = next.slice(p, next.length - s);

  let value = next;
  let at = Math.max(0, Math.min(caret, next.length));
  if (inserted === "" && deleted.length === 1 && isGroup(deleted)) {
    // Backspace (or Delete) on one of our separators: take the digit next to it instead.
    if (inputType === "deleteContentForward") {
      if (p < value.length && /\d/.test(value[p])) value = value.slice(0, p) + value.slice(p + 1);
      at = p;
    } else if (p > 0 && /\d/.test(value[p - 1])) {
      value = value.slice(0, p - 1) + value.slice(p);
      at = p - 1;
    }
  }
  if ([...inserted].some(isGroup)) return unchanged; // typed or pasted by the person: theirs to keep

  // Drop our separators (everywhere but the inserted text, which has none), counting the characters that
  // matter — digits and the decimal separator — before the cursor.
  let clean = "";
  let before = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (isGroup(c)) continue;
    clean += c;
    if (i < at) before++;
  }
  const dec = clean.indexOf(decimal);
  const intDigits = dec < 0 ? clean : clean.slice(0, dec);
  const frac = dec < 0 ? "" : clean.slice(dec);
  if (!/^\d*$/.test(intDigits) || !new RegExp(`^(${decimal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\d*)?$`).test(frac)) {
    return unchanged;
  }
  if (intDigits.length > 15) return unchanged; // beyond what an amount can be: parseAmount says so
  let grouped = "";
  let zeros = 0;
  if (intDigits !== "") {
    const n = BigInt(intDigits);
    zeros = intDigits.length - n.toString().length; // leading zeros go (kept: a single "0")
    grouped = new Intl.NumberFormat(locale, { useGrouping: true, maximumFractionDigits: 0 }).format(n);
    if (!/^[\d\s\u00a0\u202f.,'’]+$/.test(grouped)) return unchanged; // a locale with other digits
  }
  const out = grouped + frac;
  // Put the cursor after the same number of digits (and decimal separator) as before.
  let want = Math.max(0, before - Math.min(zeros, before));
  let pos = 0;
  while (pos < out.length && want > 0) {
    const separator = pos < grouped.length && !/\d/.test(out[pos]);
    if (!separator) want--;
    pos++;
  }
  return { value: out, caret: pos };
}
