// A notification in the app's words. The hub sends what a notification says as data (`text`: a key and
// its fields — names, amounts, a reason) beside its English title and body; the app words it from its
// locales' `notification_text.<key>` in the language on screen, with amounts in its money format. A key
// this app has no words for (a newer hub), or none at all (an older hub), leaves the hub's text. The same
// words go to the engine (`engineWords`, sent with `set_locale`), which words native notifications with
// them while the window is closed (crates/client/src/display.rs, `DisplayStyle::word`).
import i18next from "i18next";
import type { NotificationText } from "../bindings/protocol";
import en from "../locales/en.json";
import { language, t } from "./i18n.svelte";
import { formatMoney, minorToDecimalString, userLocale } from "./money";

type Words = Record<string, Record<string, string>>;
const KEYS = Object.keys(en.notification_text as Words).filter((k) => k !== "level");

/** `text`'s title and body in the app's words (`body` where its words have none), or null: the hub's. */
export function wordNotification(text: NotificationText | undefined, body: string, locale?: string): { title: string; body: string } | null {
  if (!text || !KEYS.includes(text.key)) return null;
  const vars: Record<string, string> = {};
  for (const [name, value] of Object.entries(text)) {
    if (name !== "key") vars[name] = field(name, value, locale);
  }
  const base = `notification_text.${text.key}`;
  const say = (key: string) => (t as unknown as (k: string, o: object) => string)(key, { ...vars, interpolation: { skipOnVariables: true } });
  return { title: say(`${base}.title`), body: i18next.exists(`${base}.body`) ? say(`${base}.body`) : body };
}

/**
 * One field: an amount in the app's money format, a limit (`single`, `daily`: hundredths of a unit) with
 * two decimals, a count as a number, a level in words, anything else (a name, a reason) as written.
 */
function field(name: string, value: unknown, locale?: string): string {
  if (typeof value === "object" && value !== null && "minor" in value && "currency" in value) {
    const m = value as { minor: number; currency: string };
    return formatMoney(m.minor, m.currency, locale ? { locale } : {});
  }
  if (typeof value === "number" && (name === "single" || name === "daily")) {
    const f = new Intl.NumberFormat(locale ?? userLocale(), { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    return f.format(minorToDecimalString(value, 2) as Intl.StringNumericLiteral);
  }
  if (typeof value === "number") return new Intl.NumberFormat(locale ?? userLocale()).format(value);
  if (name === "level" && typeof value === "string" && i18next.exists(`notification_text.level.${value}`)) {
    return t(`notification_text.level.${value}` as never) as string;
  }
  return String(value);
}

/**
 * The words for the engine, in the language on screen: "<key>.title", "<key>.body" (where there is one)
 * with their `{{field}}` placeholders as written, and "level.<level>".
 */
export function engineWords(): Record<string, string> {
  void language(); // read again when the language changes
  const raw = (key: string) => i18next.getResource(i18next.language, "translation", key) ?? i18next.getResource("en", "translation", key);
  const out: Record<string, string> = {};
  for (const [key, words] of Object.entries(en.notification_text as Words)) {
    for (const part of Object.keys(words)) {
      const w = raw(`notification_text.${key}.${part}`);
      if (typeof w === "string") out[`${key}.${part}`] = w;
    }
  }
  return out;
}
