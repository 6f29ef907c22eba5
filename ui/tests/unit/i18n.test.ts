// The language files: German has exactly English's keys and placeholders, nothing is left empty, and the
// language follows the system unless the user picked one (kept on this device).
import { afterEach, describe, expect, it } from "vitest";
import de from "../../src/locales/de.json";
import en from "../../src/locales/en.json";
import { applyLanguage, language, languageChoice, PSEUDO_RTL, setLanguageChoice, systemLanguage, t } from "../../src/lib/i18n.svelte";
import { pseudoText } from "../../src/lib/pseudo";
import { userLocale } from "../../src/lib/money";

type Tree = { [k: string]: string | Tree };
function flat(tree: Tree, prefix = ""): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(tree)) {
    if (typeof v === "string") out.set(prefix + k, v);
    else for (const [kk, vv] of flat(v, `${prefix}${k}.`)) out.set(kk, vv);
  }
  return out;
}
const placeholders = (s: string) => [...s.matchAll(/\{\{\s*([\w.]+)[^}]*\}\}/g)].map((m) => m[1]).sort();

afterEach(() => {
  localStorage.clear();
  applyLanguage();
});

describe("language files", () => {
  const e = flat(en as Tree);
  const d = flat(de as Tree);

  it("German has every English key and no other", () => {
    expect([...d.keys()].filter((k) => !e.has(k))).toEqual([]);
    expect([...e.keys()].filter((k) => !d.has(k))).toEqual([]);
    expect(e.size).toBeGreaterThan(500);
  });

  it("every text keeps its placeholders and none is empty", () => {
    for (const [k, v] of e) {
      expect(v.trim(), k).not.toBe("");
      expect(d.get(k)?.trim(), k).not.toBe("");
      expect(placeholders(d.get(k) ?? ""), k).toEqual(placeholders(v));
    }
  });

  it("plural keys come in one/other pairs", () => {
    for (const k of e.keys()) {
      if (k.endsWith("_one")) expect(e.has(k.replace(/_one$/, "_other")), k).toBe(true);
    }
  });
});

describe("choosing the language", () => {
  it("follows the system's first supported language", () => {
    expect(systemLanguage(["de-AT", "en-US"])).toBe("de");
    expect(systemLanguage(["fr-FR", "de_DE.UTF-8"])).toBe("de");
    expect(systemLanguage(["fr-FR"])).toBe("en");
    expect(systemLanguage(["C", undefined])).toBe("en");
  });

  it("an override is kept on this device and changes the texts, the page's lang and the number words", () => {
    expect(languageChoice()).toBe("system");
    setLanguageChoice("de");
    expect(localStorage.getItem("tally.language")).toBe("de");
    expect(language()).toBe("de");
    expect(t("nav.settings")).toBe("Einstellungen");
    expect(document.documentElement.lang).toBe("de");
    expect(document.documentElement.dir).toBe("ltr");
    expect(userLocale().startsWith("de")).toBe(true);
    expect(t("settings.sign_out_waiting", { count: 1 })).toMatch(/^1 Eintrag wartet/);
    expect(t("settings.sign_out_waiting", { count: 3 })).toMatch(/^3 Einträge warten/);
    setLanguageChoice("system");
    expect(localStorage.getItem("tally.language")).toBeNull();
    expect(t("nav.settings")).toBe("Settings");
  });

  it("the mirrored pseudo-locale marks every text and lays the page out right to left", () => {
    setLanguageChoice(PSEUDO_RTL);
    expect(document.documentElement.dir).toBe("rtl");
    expect(t("nav.send")).toBe(pseudoText("Send"));
    expect(t("app.welcome", { name: "Bob" })).toBe("⟦Wélçómé, Bob⟧");
  });

  it("an unknown stored choice falls back to the system's language", () => {
    localStorage.setItem("tally.language", "xx");
    expect(languageChoice()).toBe("system");
  });
});
