// The UI's language. Every string a person reads goes through `t` (i18next, typed keys from en.json);
// English and German are complete (tests/unit/i18n.test.ts holds them to the same keys and
// placeholders). The language follows the system's (navigator.languages) unless the user picked one in
// Settings; the choice is this device's (localStorage), so the sign-in screen has it too. Amounts and
// dates keep following the system's region through Intl (lib/money.ts, lib/dates.ts), as macOS and
// Windows do when the language is overridden. `PSEUDO_RTL` is a test locale, not offered in Settings: the
// English text marked and accented and laid out right to left, to find strings that skip `t` and layout
// that does not mirror (tests/browser-rtl.mjs).
import i18next from "i18next";
import de from "../locales/de.json";
import en from "../locales/en.json";
import { pseudoResources } from "./pseudo";

export type Language = "en" | "de";
export type LanguageChoice = Language | "system";
export const LANGUAGES: readonly { code: Language; name: string }[] = [
  { code: "en", name: "English" },
  { code: "de", name: "Deutsch" },
];
export const PSEUDO_RTL = "qps-plocm";
const CHOICE_KEY = "tally.language";

/** The language on screen; reading it in `t` makes every translated text follow a change. */
const current = $state({ lang: "en" as string });

i18next.init({
  resources: { en: { translation: en }, de: { translation: de }, [PSEUDO_RTL]: { translation: pseudoResources(en) } },
  lng: "en",
  fallbackLng: "en",
  supportedLngs: ["en", "de", PSEUDO_RTL],
  initAsync: false,
  returnNull: false,
  interpolation: { escapeValue: false }, // Svelte escapes text; HTML-escaping here would show "&amp;"
});

/** The translated text for `key`. */
export const t: typeof i18next.t = ((...args: unknown[]) => {
  void current.lang;
  return (i18next.t as unknown as (...a: unknown[]) => string)(...args);
}) as unknown as typeof i18next.t;

/** The supported language the system asks for first ("de-AT" → "de"), English otherwise. */
export function systemLanguage(candidates: readonly (string | undefined)[] = navigatorLanguages()): Language {
  for (const tag of candidates) {
    const base = tag?.split(/[-_.@]/)[0]?.toLowerCase();
    const hit = LANGUAGES.find((l) => l.code === base);
    if (hit) return hit.code;
  }
  return "en";
}

function navigatorLanguages(): string[] {
  if (typeof navigator === "undefined") return [];
  return [...(navigator.languages ?? []), navigator.language];
}

/** What the user picked in Settings on this device ("system" unless they picked a language). */
export function languageChoice(): LanguageChoice | typeof PSEUDO_RTL {
  try {
    const v = localStorage.getItem(CHOICE_KEY);
    if (v === PSEUDO_RTL || LANGUAGES.some((l) => l.code === v)) return v as Language | typeof PSEUDO_RTL;
  } catch {
    /* no storage: follow the system */
  }
  return "system";
}

/** Picks (and remembers) a language, and puts it on screen. */
export function setLanguageChoice(choice: LanguageChoice | typeof PSEUDO_RTL): void {
  try {
    if (choice === "system") localStorage.removeItem(CHOICE_KEY);
    else localStorage.setItem(CHOICE_KEY, choice);
  } catch {
    /* kept for this run only */
  }
  applyLanguage();
}

/** The language in use now. */
export function language(): string {
  return current.lang;
}

/** Puts the chosen (or the system's) language on screen: texts, `<html lang>` and the direction. */
export function applyLanguage(): void {
  const choice = languageChoice();
  const lang = choice === "system" ? systemLanguage() : choice;
  void i18next.changeLanguage(lang);
  current.lang = lang;
  if (typeof document !== "undefined") {
    document.documentElement.lang = lang === PSEUDO_RTL ? "en" : lang;
    document.documentElement.dir = lang === PSEUDO_RTL ? "rtl" : i18next.dir(lang);
  }
}

/**
 * A translated sentence cut around one placeholder, for markup in the middle of it (an amount in its own
 * element): `tSplit("home.on_hold", "amount")` → ["", " on hold for payments in flight"].
 */
export function tSplit(key: Parameters<typeof t>[0], slot: string, vars: Record<string, unknown> = {}): [string, string] {
  const mark = "\u0000";
  const text = (t as unknown as (k: unknown, o: unknown) => string)(key, { ...vars, [slot]: mark });
  const i = text.indexOf(mark);
  return i < 0 ? [text, ""] : [text.slice(0, i), text.slice(i + mark.length)];
}
