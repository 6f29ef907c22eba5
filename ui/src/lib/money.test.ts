import { describe, expect, it } from "vitest";
import type { LimitsView } from "../bindings/app";
import {
  pickLocale,
  formatMoney,
  formatAxisMoney,
  fractionDigits,
  groupAmountInput,
  limitsFor,
  limitsSummary,
  maxSendable,
  minorToDecimalString,
  moneyStyle,
  minorToInput,
  parseAmount,
  validateSendAmount,
} from "./money";

const minor = (input: string, currency = "USD", locale = "en-US") => {
  const r = parseAmount(input, currency, locale);
  return r.ok ? r.minor : r.error;
};

describe("fractionDigits", () => {
  it("comes from Intl", () => {
    expect(fractionDigits("USD")).toBe(2);
    expect(fractionDigits("JPY")).toBe(0);
    expect(fractionDigits("BHD")).toBe(3);
    expect(fractionDigits("EUR")).toBe(2);
  });
});

describe("minorToDecimalString", () => {
  it("is exact string math", () => {
    expect(minorToDecimalString(123456, 2)).toBe("1234.56");
    expect(minorToDecimalString(5, 2)).toBe("0.05");
    expect(minorToDecimalString(-5, 2)).toBe("-0.05");
    expect(minorToDecimalString(0, 2)).toBe("0.00");
    expect(minorToDecimalString(1234, 0)).toBe("1234");
    expect(minorToDecimalString(1, 3)).toBe("0.001");
    expect(minorToDecimalString(9007199254740991, 2)).toBe("90071992547409.91");
  });
});

describe("formatMoney", () => {
  it("formats minor units with the currency's digits", () => {
    expect(formatMoney(123456, "USD", { locale: "en-US" })).toBe("$1,234.56");
    expect(formatMoney(123456, "EUR", { locale: "de-DE" })).toBe("1.234,56\u00a0€");
    expect(formatMoney(1234, "JPY", { locale: "en-US" })).toBe("¥1,234");
    expect(formatMoney(1234, "BHD", { locale: "en-US" })).toBe("BHD\u00a01.234");
    expect(formatMoney(5, "USD", { locale: "en-US" })).toBe("$0.05");
  });
  it("signs incoming money on request", () => {
    expect(formatMoney(1250, "USD", { locale: "en-US", sign: "always" })).toBe("+$12.50");
    expect(formatMoney(-1250, "USD", { locale: "en-US", sign: "always" })).toBe("-$12.50");
  });
  it("does not lose cents on large values", () => {
    expect(formatMoney(9007199254740991, "USD", { locale: "en-US" })).toBe("$90,071,992,547,409.91");
  });
});

describe("parseAmount", () => {
  it("parses en-US input into minor units", () => {
    expect(minor("12")).toBe(1200);
    expect(minor("12.5")).toBe(1250);
    expect(minor("12.50")).toBe(1250);
    expect(minor("0.01")).toBe(1);
    expect(minor(".5")).toBe(50);
    expect(minor("1,234.56")).toBe(123456);
    expect(minor(" $1,234 ")).toBe(123400);
    expect(minor("1234 USD")).toBe(123400);
    expect(minor("0.1")).toBe(10); // no float error: 0.1 * 100 would not be exact
    expect(minor("1.1")).toBe(110);
    expect(minor("19.99")).toBe(1999);
  });
  it("uses the locale's separators", () => {
    expect(minor("1.234,56", "EUR", "de-DE")).toBe(123456);
    expect(minor("12,5", "EUR", "de-DE")).toBe(1250);
    expect(minor("1 234,56", "EUR", "fr-FR")).toBe(123456);
    expect(minor("1\u202f234,56 €", "EUR", "fr-FR")).toBe(123456);
    expect(minor("1’234.50", "CHF", "de-CH")).toBe(123450);
  });
  it("accepts a lone dot as decimal point in comma locales when unambiguous", () => {
    expect(minor("12.5", "EUR", "de-DE")).toBe(1250);
    expect(minor("1.234", "EUR", "de-DE")).toBe(123400); // a thousands separator there
  });
  it("treats a lone comma with 1-2 digits as a decimal comma in en-US", () => {
    expect(minor("12,5")).toBe(1250);
  });
  it("respects currencies without or with three decimals", () => {
    expect(minor("1500", "JPY")).toBe(1500);
    expect(minor("15.5", "JPY")).toBe("JPY has no decimal places.");
    expect(minor("1.234", "BHD")).toBe(1234);
    expect(minor("1.2345", "BHD")).toBe("Use at most 3 decimal places.");
  });
  it("rejects what is not an amount", () => {
    expect(minor("")).toBe("Enter an amount.");
    expect(minor("   ")).toBe("Enter an amount.");
    expect(minor("abc")).toBe("Use digits only, like 12.50.");
    expect(minor("12a")).toBe("Use digits only, like 12.50.");
    expect(minor("-5")).toBe("Enter a positive amount.");
    expect(minor("+5")).toBe("Enter a positive amount.");
    expect(minor("0")).toBe("Enter an amount greater than zero.");
    expect(minor("0.00")).toBe("Enter an amount greater than zero.");
    expect(minor("12.345")).toBe("Use at most 2 decimal places.");
    expect(minor("1.2.3")).toBe("That amount has more than one decimal separator.");
    expect(minor("12,34,5")).toBe("Check the thousands separators.");
    expect(minor("1e5")).toBe("Use digits only, like 12.50.");
    expect(minor("99999999999999999")).toBe("That amount is too large.");
  });
});

describe("validateSendAmount", () => {
  const limits = { single: 100_000, daily: 500_000, remaining: 320_000 };
  it("checks the available balance", () => {
    expect(validateSendAmount(1000, "USD", 1000, null, "en-US")).toBeNull();
    expect(validateSendAmount(1001, "USD", 1000, null, "en-US")).toBe("That is more than your available $10.00.");
  });
  it("names the per-payment limit (USD, thousands separators)", () => {
    expect(validateSendAmount(100_000, "USD", 10_000_000, limits, "en-US")).toBeNull();
    expect(validateSendAmount(100_001, "USD", 10_000_000, limits, "en-US")).toBe("Over your limit of $1,000.00 per payment.");
    expect(validateSendAmount(600_000, "USD", 10_000_000, null, "en-US")).toBeNull();
  });
  it("says what is left of today's limit", () => {
    const low = { ...limits, remaining: 20_000 };
    expect(validateSendAmount(20_000, "USD", 10_000_000, low, "en-US")).toBeNull();
    expect(validateSendAmount(20_001, "USD", 10_000_000, low, "en-US")).toBe("Only $200.00 left of today's limit.");
    expect(validateSendAmount(1, "USD", 10_000_000, { ...limits, remaining: 0 }, "en-US")).toBe(
      "You've reached today's limit of $5,000.00. Try again tomorrow.",
    );
  });
  it("checks the available balance before the limits", () => {
    expect(validateSendAmount(150_000, "USD", 1000, limits, "en-US")).toBe("That is more than your available $10.00.");
  });
  it("uses the daily total while what is left today is not known", () => {
    const hubOnly = { single: 100_000, daily: 500_000, remaining: null };
    expect(validateSendAmount(90_000, "USD", 10_000_000, hubOnly, "en-US")).toBeNull();
    expect(validateSendAmount(100_000, "USD", 10_000_000, { ...hubOnly, single: null }, "en-US")).toBeNull();
    expect(validateSendAmount(500_001, "USD", 10_000_000, { ...hubOnly, single: null }, "en-US")).toBe("Over your limit of $5,000.00 per day.");
  });
  it("formats JPY limits with no decimals", () => {
    const jpy = { single: 100_000, daily: 300_000, remaining: 25_000 };
    expect(validateSendAmount(100_001, "JPY", 10_000_000, jpy, "en-US")).toBe("Over your limit of ¥100,000 per payment.");
    expect(validateSendAmount(25_001, "JPY", 10_000_000, jpy, "en-US")).toBe("Only ¥25,000 left of today's limit.");
  });
  it("formats BHD limits with three decimals", () => {
    const bhd = { single: 1_000_000, daily: 5_000_000, remaining: 1_250 };
    expect(validateSendAmount(1_000_001, "BHD", 10_000_000, bhd, "en-US")).toBe("Over your limit of BHD\u00a01,000.000 per payment.");
    expect(validateSendAmount(1_251, "BHD", 10_000_000, bhd, "en-US")).toBe("Only BHD\u00a01.250 left of today's limit.");
  });
  it("follows the locale", () => {
    expect(validateSendAmount(100_001, "EUR", 10_000_000, limits, "de-DE")).toBe("Over your limit of 1.000,00\u00a0€ per payment.");
  });
});

describe("limitsFor", () => {
  const view: LimitsView = {
    single_max: 100_000,
    daily_max: 500_000,
    sent_today: [{ minor: 180_000, currency: "USD" }],
    remaining_today: [
      { minor: 500_000, currency: "EUR" },
      { minor: 320_000, currency: "USD" },
    ],
  };
  it("picks the currency's remaining from the limits command", () => {
    expect(limitsFor(view, "USD")).toEqual({ single: 100_000, daily: 500_000, remaining: 320_000 });
    expect(limitsFor(view, "EUR")).toEqual({ single: 100_000, daily: 500_000, remaining: 500_000 });
  });
  it("knows a currency the engine did not list has its whole daily total left, in that currency's units", () => {
    // Limits mean the same in every currency: 1,000.00 USD per payment is ¥1,000 and BHD 1,000.000.
    expect(limitsFor(view, "JPY")).toEqual({ single: 1_000, daily: 5_000, remaining: 5_000 });
    expect(limitsFor(view, "BHD")).toEqual({ single: 1_000_000, daily: 5_000_000, remaining: 5_000_000 });
  });
  it("falls back to the session's hub limits, then to nothing", () => {
    const hub = { transfer_single_max: 500_000, transfer_daily_max: 2_000_000 };
    expect(limitsFor(null, "USD", hub)).toEqual({ single: 500_000, daily: 2_000_000, remaining: null });
    expect(limitsFor(null, "JPY", hub)).toEqual({ single: 5_000, daily: 20_000, remaining: null });
    expect(limitsFor(null, "USD", null)).toBeNull();
    expect(limitsFor({ single_max: null, daily_max: null, sent_today: [], remaining_today: [] }, "USD", hub)).toBeNull();
  });
});

describe("limitsSummary", () => {
  it("shows the per-payment limit and what is left today", () => {
    expect(limitsSummary({ single: 100_000, daily: 500_000, remaining: 320_000 }, "USD", "en-US")).toBe(
      "Up to $1,000.00 per payment · $3,200.00 left today",
    );
    expect(limitsSummary({ single: 100_000, daily: 500_000, remaining: 320_000 }, "JPY", "en-US")).toBe(
      "Up to ¥100,000 per payment · ¥320,000 left today",
    );
    expect(limitsSummary({ single: 100_000, daily: 500_000, remaining: 320_000 }, "BHD", "en-US")).toBe(
      "Up to BHD\u00a0100.000 per payment · BHD\u00a0320.000 left today",
    );
  });
  it("shows the daily total until what is left is known, and nothing when nothing is", () => {
    expect(limitsSummary({ single: 100_000, daily: 500_000, remaining: null }, "USD", "en-US")).toBe("Up to $1,000.00 per payment · $5,000.00 a day");
    expect(limitsSummary(null, "USD", "en-US")).toBe("");
  });
});

describe("maxSendable", () => {
  it("is the available balance capped by the limits", () => {
    expect(maxSendable(50_000, null)).toBe(50_000);
    expect(maxSendable(500_000, { single: 100_000, daily: 500_000, remaining: 320_000 })).toBe(100_000);
    expect(maxSendable(500_000, { single: 100_000, daily: 500_000, remaining: 20_000 })).toBe(20_000);
    expect(maxSendable(500_000, { single: null, daily: 300_000, remaining: null })).toBe(300_000);
    expect(maxSendable(-5, null)).toBe(0);
  });
});

describe("minorToInput", () => {
  it("round-trips with parseAmount", () => {
    expect(minorToInput(123456, "EUR", "de-DE")).toBe("1234,56");
    expect(minor(minorToInput(123456, "EUR", "de-DE"), "EUR", "de-DE")).toBe(123456);
    expect(minorToInput(1500, "JPY", "en-US")).toBe("1500");
  });
});

describe("formatAxisMoney", () => {
  it("labels chart axes like the rest of the app: no '.0'", () => {
    expect(formatAxisMoney(400, "USD", "en-US")).toBe("$400");
    expect(formatAxisMoney(0, "USD", "en-US")).toBe("$0");
    expect(formatAxisMoney(1500, "USD", "en-US")).toBe("$1.5K");
    expect(formatAxisMoney(2000, "USD", "en-US")).toBe("$2K");
    expect(formatAxisMoney(12.5, "USD", "en-US")).toBe("$12.5");
    expect(formatAxisMoney(12000, "JPY", "en-US")).toBe("¥12K");
    expect(formatAxisMoney(400, "EUR", "de-DE")).toBe("400\u00a0€");
    expect(formatMoney(40_000, "USD", { compact: true, locale: "en-US" })).toBe("$400");
  });
});

describe("groupAmountInput", () => {
  /** Types `keys` one at a time at the end, as a person would; returns each value shown. */
  const typeEach = (keys: string, locale = "en-US") => {
    const shown: string[] = [];
    let v = "";
    for (const k of keys) {
      v = groupAmountInput(v, v + k, v.length + 1, locale).value;
      shown.push(v);
    }
    return shown;
  };
  it("groups the integer part as you type (en-US)", () => {
    expect(typeEach("1234567.89")).toEqual(["1", "12", "123", "1,234", "12,345", "123,456", "1,234,567", "1,234,567.", "1,234,567.8", "1,234,567.89"]);
    expect(minor(groupAmountInput("", "1234567.89", 10, "en-US").value, "USD", "en-US")).toBe(123456789);
  });
  it("follows the locale: de-DE, fr-FR, en-IN", () => {
    expect(typeEach("12345,5", "de-DE").at(-1)).toBe("12.345,5");
    expect(groupAmountInput("", "1234567", 7, "fr-FR").value).toBe("1\u202f234\u202f567");
    expect(groupAmountInput("", "1234567", 7, "en-IN").value).toBe("12,34,567");
    expect(minor(groupAmountInput("", "12345,5", 7, "de-DE").value, "EUR", "de-DE")).toBe(1234550);
  });
  it("keeps the cursor after the same digit", () => {
    // "1,234" with the cursor after "1": typing 9 gives "19,234" with the cursor after the 9.
    expect(groupAmountInput("1,234", "19,234", 2, "en-US")).toEqual({ value: "19,234", caret: 2 });
    // cursor after "12" in "12,345"; typing 0 → "120,345", cursor after "120"
    expect(groupAmountInput("12,345", "120,345", 3, "en-US")).toEqual({ value: "120,345", caret: 3 });
    // a separator appears before the cursor: "999" + "9" → "9,999", cursor at the end
    expect(groupAmountInput("999", "9999", 4, "en-US")).toEqual({ value: "9,999", caret: 5 });
  });
  it("backspace on a separator deletes the digit before it; Delete the one after", () => {
    expect(groupAmountInput("1,234", "1234", 1, "en-US", "deleteContentBackward")).toEqual({ value: "234", caret: 0 });
    expect(groupAmountInput("12,345", "12345", 2, "en-US", "deleteContentForward")).toEqual({ value: "1,245", caret: 3 }); // "1,2|45"
    expect(groupAmountInput("1,234", "234", 0, "en-US", "deleteContentBackward")).toEqual({ value: "234", caret: 0 });
  });
  it("leaves alone what the person typed that it cannot group", () => {
    expect(groupAmountInput("", "1,5", 3, "en-US").value).toBe("1,5"); // a decimal comma, maybe
    expect(groupAmountInput("", "1,234.5", 7, "en-US").value).toBe("1,234.5"); // pasted with separators
    expect(groupAmountInput("", "abc", 3, "en-US").value).toBe("abc");
    expect(groupAmountInput("", "-5000", 5, "en-US").value).toBe("-5000");
    expect(groupAmountInput("", "12.345", 6, "en-US").value).toBe("12.345"); // too many decimals: an error, not a rewrite
    expect(groupAmountInput("", "12.5", 4, "de-DE").value).toBe("12.5"); // a decimal point in de-DE: parseAmount reads 12,5
    expect(groupAmountInput("", ".5", 2, "en-US").value).toBe(".5");
    expect(groupAmountInput("", "007", 3, "en-US")).toEqual({ value: "7", caret: 1 });
  });
});

describe("pickLocale", () => {
  it("falls back to en-US for POSIX and invalid locales", () => {
    expect(pickLocale(["C"])).toBe("en-US");
    expect(pickLocale(["POSIX", undefined, ""])).toBe("en-US");
    expect(pickLocale(["not a tag!!"])).toBe("en-US");
  });
  it("normalises POSIX-style tags", () => {
    expect(pickLocale(["en_GB.UTF-8"])).toBe("en-GB");
    expect(pickLocale(["C", "de-DE"])).toBe("de-DE");
  });
});

describe("moneyStyle (what the engine is told, to write native notifications as the screens do)", () => {
  it("describes en-US, de-DE and en-IN as Intl writes them", () => {
    const us = moneyStyle("en-US");
    expect([us.decimal, us.group, us.primary, us.secondary]).toEqual([".", ",", 3, 3]);
    expect(us.currencies.USD).toEqual({ prefix: "$", suffix: "", negative_prefix: "-$", negative_suffix: "" });
    const de = moneyStyle("de-DE");
    expect([de.decimal, de.group]).toEqual([",", "."]);
    expect(de.currencies.EUR).toEqual({ prefix: "", suffix: "\u00a0€", negative_prefix: "-", negative_suffix: "\u00a0€" });
    const india = moneyStyle("en-IN");
    expect([india.primary, india.secondary]).toEqual([3, 2]);
    expect(Object.keys(us.currencies).length).toBeGreaterThan(100);
  });

  it("rebuilds what formatMoney writes (the rule the engine follows)", () => {
    for (const locale of ["en-US", "de-DE", "en-IN", "fr-FR", "ja-JP"]) {
      const s = moneyStyle(locale);
      for (const [minor, cur] of [[123456789, "USD"], [-914, "EUR"], [50000, "JPY"]] as const) {
        const a = s.currencies[cur];
        const digits = fractionDigits(cur);
        const abs = String(Math.abs(minor)).padStart(digits + 1, "0");
        const int = abs.slice(0, abs.length - digits);
        const groups: string[] = [];
        let rest = int;
        groups.unshift(rest.slice(-s.primary));
        rest = rest.slice(0, -s.primary);
        while (rest.length > 0) {
          groups.unshift(rest.slice(-s.secondary));
          rest = rest.slice(0, -s.secondary);
        }
        const body = groups.join(s.group) + (digits ? s.decimal + abs.slice(-digits) : "");
        const built = minor < 0 ? a.negative_prefix + body + a.negative_suffix : a.prefix + body + a.suffix;
        expect(built, `${locale} ${minor} ${cur}`).toBe(formatMoney(minor, cur, { locale }));
      }
    }
  });
});
