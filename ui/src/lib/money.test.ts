import { describe, expect, it } from "vitest";
import {
  pickLocale,
  formatMoney,
  fractionDigits,
  minorToDecimalString,
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
  const limits = { transfer_single_max: 500_000, transfer_daily_max: 2_000_000 };
  it("checks the available balance", () => {
    expect(validateSendAmount(1000, "USD", 1000, null, "en-US")).toBeNull();
    expect(validateSendAmount(1001, "USD", 1000, null, "en-US")).toBe("That is more than your available $10.00.");
  });
  it("checks limits when known", () => {
    expect(validateSendAmount(600_000, "USD", 10_000_000, limits, "en-US")).toBe("The most you can send at once is $5,000.00.");
    expect(validateSendAmount(600_000, "USD", 10_000_000, null, "en-US")).toBeNull();
  });
});

describe("minorToInput", () => {
  it("round-trips with parseAmount", () => {
    expect(minorToInput(123456, "EUR", "de-DE")).toBe("1234,56");
    expect(minor(minorToInput(123456, "EUR", "de-DE"), "EUR", "de-DE")).toBe(123456);
    expect(minorToInput(1500, "JPY", "en-US")).toBe("1500");
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
