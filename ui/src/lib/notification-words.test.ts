import { afterEach, describe, expect, it } from "vitest";
import type { NotificationText } from "../bindings/protocol";
import de from "../locales/de.json";
import { applyLanguage, setLanguageChoice } from "./i18n.svelte";
import { engineWords, wordNotification } from "./notification-words";
import { notificationText, presentEngineToast } from "./toasts";

const usd = (minor: number) => ({ minor, currency: "USD" });
const paid: NotificationText = { key: "payment_received", from: "Bob Brown", amount: usd(1234) };

afterEach(() => {
  localStorage.clear();
  applyLanguage();
});

describe("a notification's text in the app's words", () => {
  it("in the language on screen, with amounts in the app's money format and the memo as written", () => {
    expect(wordNotification(paid, "Lunch", "en-US")).toEqual({ title: "Bob Brown paid you $12.34", body: "Lunch" });
    setLanguageChoice("de");
    expect(wordNotification(paid, "Lunch", "de-DE")).toEqual({ title: "Bob Brown hat dir 12,34\u00a0$ gezahlt", body: "Lunch" });
    const failed: NotificationText = { key: "transfer_failed", to: "Ann", amount: usd(500) };
    expect(wordNotification(failed, "The money is back in your balance.", "de-DE")?.body).toBe("Das Geld ist wieder auf deinem Guthaben.");
    const kyc: NotificationText = { key: "kyc_level", level: "verified", single: 10_000_000, daily: 40_000_000 };
    expect(wordNotification(kyc, "", "de-DE")).toEqual({
      title: "Identitätsprüfung: bestätigt",
      body: "Du kannst jetzt bis zu 100.000,00 pro Zahlung und 400.000,00 am Tag senden (in ganzen Einheiten jeder Währung).",
    });
  });

  it("a name is a name: braces in it are not placeholders", () => {
    const braces: NotificationText = { key: "payment_received", from: "{{amount}}", amount: usd(1) };
    expect(wordNotification(braces, "", "en-US")?.title).toBe("{{amount}} paid you $0.01");
  });

  it("no text (an older hub) or a key this app does not know (a newer hub): the hub's text", () => {
    const hub = { kind: "payment" as const, title: "Bob Brown paid you 12.34 USD", body: "Lunch" };
    expect(notificationText(hub, "en-US")).toEqual({ title: "Bob Brown paid you $12.34", body: "Lunch" });
    const newer = { ...hub, text: { key: "teleported" } as unknown as NotificationText };
    expect(notificationText(newer, "en-US")).toEqual({ title: "Bob Brown paid you $12.34", body: "Lunch" });
    setLanguageChoice("de");
    expect(notificationText({ ...hub, text: paid }, "de-DE").title).toBe("Bob Brown hat dir 12,34\u00a0$ gezahlt");
  });

  it("an engine toast of the user's own payment is known by its text, in any language", () => {
    setLanguageChoice("de");
    const text: NotificationText = { key: "payment_sent", to: "Ann", amount: usd(900) };
    const v = presentEngineToast({ kind: "transfer", title: "9.00 USD sent to Ann", body: "", text }, "de-DE");
    expect(v.title).toBe("9,00\u00a0$ an Ann gesendet");
    expect(v.sent).toEqual({ minor: 900, currency: "USD", name: "Ann" });
    const failed = presentEngineToast({ kind: "transfer", title: "x", body: "y", text: { key: "transfer_failed", to: "Ann", amount: usd(900) } }, "de-DE");
    expect(failed.tone).toBe("error");
  });

  it("the engine gets the words of the language on screen, placeholders as written", () => {
    setLanguageChoice("de");
    const w = engineWords();
    expect(w["payment_received.title"]).toBe(de.notification_text.payment_received.title);
    expect(w["transfer_failed.body"]).toBe(de.notification_text.transfer_failed.body);
    expect(w["level.verified"]).toBe("bestätigt");
    expect(w["payment_received.body"]).toBeUndefined();
    // Within what the engine accepts (crates/client/src/display.rs: keys, length, no control characters).
    expect(Object.keys(w).length).toBeLessThanOrEqual(128);
    for (const [k, v] of Object.entries(w)) {
      expect(k).toMatch(/^[a-z_.]{1,48}$/);
      expect([...v].length).toBeLessThanOrEqual(400);
      expect(/\p{Cc}/u.test(v), k).toBe(false);
    }
  });
});
