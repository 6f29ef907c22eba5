import { cleanup, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TransferView } from "../../src/bindings/app";
import App from "../../src/App.svelte";
import Toasts from "../../src/components/Toasts.svelte";
import { chartsShown, CHARTS_KEY, COLUMN_MAX, fitColumns, rememberCharts } from "../../src/lib/columns";
import { app, dismissToast, toast } from "../../src/lib/store.svelte";
import {
  forgetSentPayments,
  formatMoneyText,
  hubAmountToMinor,
  isAnnouncedPayment,
  presentEngineToast,
  rememberSentPayment,
} from "../../src/lib/toasts";
import { installFake } from "./helpers";

function clearToasts() {
  for (const t of [...app.toasts]) dismissToast(t.id);
}

afterEach(() => {
  cleanup();
  clearMocks();
  vi.useRealTimers();
  clearToasts();
  forgetSentPayments();
  localStorage.clear();
});

describe("formatMoneyText", () => {
  it("rewrites the hub's amounts in the app's money format", () => {
    expect(formatMoneyText("12.34 USD sent to Bob Brown", "en-US")).toBe("$12.34 sent to Bob Brown");
    expect(formatMoneyText("Bob Brown paid you 1234.50 USD", "en-US")).toBe("Bob Brown paid you $1,234.50");
    expect(formatMoneyText("Deposit of 500 JPY", "en-US")).toBe("Deposit of ¥500");
    expect(formatMoneyText("Transfer of 1.250 BHD to Carol failed", "en-US")).toBe("Transfer of BHD\u00a01.250 to Carol failed");
    expect(formatMoneyText("daily limit is 5000.00 EUR; 1800.00 EUR already sent today", "de-DE")).toBe(
      "daily limit is 5.000,00\u00a0€; 1.800,00\u00a0€ already sent today",
    );
  });
  it("leaves what is not the hub's money alone", () => {
    expect(formatMoneyText("Maintenance at 02 UTC", "en-US")).toBe("Maintenance at 02 UTC");
    expect(formatMoneyText("12.3 USD", "en-US")).toBe("12.3 USD"); // not the currency's digits
    expect(formatMoneyText("v1.00 USD", "en-US")).toBe("v1.00 USD");
    expect(formatMoneyText("$12.34 sent", "en-US")).toBe("$12.34 sent");
  });
  it("converts exactly, without floats", () => {
    expect(hubAmountToMinor("0.07", "USD")).toBe(7);
    expect(hubAmountToMinor("-19.99", "USD")).toBe(-1999);
    expect(hubAmountToMinor("123456789.01", "USD")).toBe(12345678901);
    expect(hubAmountToMinor("5", "USD")).toBeNull();
    expect(hubAmountToMinor("5", "JPY")).toBe(5);
  });
});

describe("presentEngineToast", () => {
  it("shows money sent with the outgoing arrow and recognises the payment", () => {
    const v = presentEngineToast({ kind: "transfer", title: "12.34 USD sent to Bob Brown", body: "Pizza" }, "en-US");
    expect(v).toMatchObject({ tone: "money", icon: "out", title: "$12.34 sent to Bob Brown", body: "Pizza" });
    expect(v.sent).toEqual({ minor: 1234, currency: "USD", name: "Bob Brown" });
  });
  it("shows money in with the incoming arrow", () => {
    const v = presentEngineToast({ kind: "payment", title: "Bob Brown paid you 5.00 USD", body: "Coffee" }, "en-US");
    expect(v).toMatchObject({ tone: "money", icon: "in", title: "Bob Brown paid you $5.00" });
    expect(v.sent).toBeUndefined();
    expect(presentEngineToast({ kind: "withdrawal", title: "Withdrawal of 20.00 USD", body: "" }, "en-US").icon).toBe("out");
    expect(presentEngineToast({ kind: "deposit", title: "Deposit of 20.00 USD", body: "" }, "en-US").icon).toBe("in");
  });
  it("shows a failed transfer as an error", () => {
    const v = presentEngineToast({ kind: "transfer", title: "Transfer of 8.50 USD to Carol Chen failed", body: "The money is back in your balance." }, "en-US");
    expect(v).toMatchObject({ tone: "error", icon: "alert", title: "Transfer of $8.50 to Carol Chen failed" });
    expect(v.sent).toBeUndefined();
  });
  it("keeps other people's text verbatim, formats the hub's own sentences", () => {
    expect(presentEngineToast({ kind: "payment", title: "Bob Brown paid you 5.00 USD", body: "owe you 5.00 USD" }, "en-US").body).toBe("owe you 5.00 USD");
    expect(presentEngineToast({ kind: "limits", title: "Transfer blocked by a limit", body: "daily limit is 5000.00 USD" }, "en-US").body).toBe(
      "daily limit is $5,000.00",
    );
  });
  it("gives the same notification the same key", () => {
    const a = presentEngineToast({ kind: "system", title: "Maintenance tonight", body: "02:00" });
    const b = presentEngineToast({ kind: "system", title: "Maintenance tonight", body: "02:00" });
    expect(a.key).toBe(b.key);
    expect(presentEngineToast({ kind: "system", title: "Maintenance tonight", body: "03:00" }).key).not.toBe(a.key);
  });
});

describe("the user's own payments", () => {
  const tv = (minor: number, name = "Bob Brown"): TransferView => ({
    transfer: {
      id: 1,
      from: { id: 1, username: "alice", display_name: "Alice Adams" },
      to: { id: 2, username: "bob", display_name: name },
      amount: { minor, currency: "USD" },
      memo: "",
      status: "pending",
      progress: 0,
      idempotency_key: "k",
      created_at: 0,
      updated_at: 0,
    },
    local: { state: "sent" },
    outbox_id: null,
    expires_at: null,
  });
  it("matches the hub's echo once", () => {
    rememberSentPayment(tv(1234), false, 1000);
    expect(isAnnouncedPayment({ minor: 1234, currency: "USD", name: "Bob Brown" }, 2000)).toBe(true);
    expect(isAnnouncedPayment({ minor: 1234, currency: "USD", name: "Bob Brown" }, 2000)).toBe(false);
  });
  it("does not match another amount, person, a queued payment or an old one", () => {
    rememberSentPayment(tv(1234), false, 1000);
    expect(isAnnouncedPayment({ minor: 1235, currency: "USD", name: "Bob Brown" }, 2000)).toBe(false);
    expect(isAnnouncedPayment({ minor: 1234, currency: "USD", name: "Carol Chen" }, 2000)).toBe(false);
    expect(isAnnouncedPayment({ minor: 1234, currency: "USD", name: "Bob Brown" }, 1000 + 11 * 60_000)).toBe(false);
    rememberSentPayment(tv(500), true, 1000);
    expect(isAnnouncedPayment({ minor: 500, currency: "USD", name: "Bob Brown" }, 2000)).toBe(false);
  });
});

describe("toast: one per event", () => {
  it("keeps one toast for the same event while it is shown", () => {
    const a = toast("info", "Maintenance tonight", "02:00");
    const b = toast("info", "Maintenance tonight", "02:00");
    expect(b).toBe(a);
    expect(app.toasts.filter((t) => t.title === "Maintenance tonight")).toHaveLength(1);
    toast("info", "Maintenance tonight", "03:00");
    expect(app.toasts.filter((t) => t.title === "Maintenance tonight")).toHaveLength(2);
  });
  it("an action's result shows again once the first is gone", () => {
    const a = toast("success", "All caught up");
    dismissToast(a);
    toast("success", "All caught up");
    expect(app.toasts.filter((t) => t.title === "All caught up")).toHaveLength(1);
  });
  it("an engine event repeated within `sameFor` stays one even after it was dismissed", () => {
    const a = toast("info", "Maintenance", "", undefined, { key: "k1", sameFor: 60_000 });
    dismissToast(a);
    toast("info", "Maintenance", "", undefined, { key: "k1", sameFor: 60_000 });
    expect(app.toasts.filter((t) => t.title === "Maintenance")).toHaveLength(0);
  });
});

describe("Toasts", () => {
  beforeEach(clearToasts);
  it("shows the icon it was given, else the tone's", () => {
    toast("money", "$3.00 sent to Carol Chen", "", undefined, { icon: "out" });
    render(Toasts, { placement: "header" });
    expect(screen.getByTestId("toast").getAttribute("data-icon")).toBe("out");
  });
  it("the header lane shows the newest one; the bottom strip two, and only errors while typing", async () => {
    toast("info", "One");
    toast("info", "Two");
    toast("error", "Three");
    const { unmount } = render(Toasts, { placement: "header" });
    expect(screen.getAllByTestId("toast").map((t) => t.getAttribute("aria-label"))).toEqual(["Three"]);
    unmount();
    const input = document.createElement("input");
    document.body.append(input);
    render(Toasts, { placement: "bottom" });
    expect(screen.getAllByTestId("toast").map((t) => t.getAttribute("aria-label"))).toEqual(["Three", "Two"]);
    input.focus();
    await waitFor(() => expect(screen.getAllByTestId("toast").map((t) => t.getAttribute("aria-label"))).toEqual(["Three"]));
    input.blur();
    await waitFor(() => expect(screen.getAllByTestId("toast")).toHaveLength(2));
    input.remove();
  });
});

describe("App: engine toasts", () => {
  it("a sent payment is one toast, in the app's money format; a repeated broadcast is one", async () => {
    const fake = installFake({ tick: 5 });
    render(App);
    await screen.findByTestId("balance-amount", {}, { timeout: 3000 });
    clearToasts();
    const tv = await (await import("../../src/lib/api")).sendMoney({ to: "bob", amount: { minor: 1234, currency: "USD" }, memo: "Pizza" });
    toast("success", "Payment sent", `$12.34 to ${tv.transfer.to.display_name}`); // what Send says
    await waitFor(() => expect(fake.settled).toHaveLength(1));
    await new Promise((r) => setTimeout(r, 50));
    expect(app.toasts.map((t) => t.title)).toEqual(["Payment sent"]);

    fake.toast("transfer", "3.00 USD sent to Carol Chen", "From my phone");
    await waitFor(() => expect(app.toasts.some((t) => t.title === "$3.00 sent to Carol Chen" && t.icon === "out")).toBe(true));

    fake.broadcast("Maintenance tonight", "Tally restarts at 02:00 UTC.");
    fake.toast("system", "Maintenance tonight", "Tally restarts at 02:00 UTC.");
    await waitFor(() => expect(app.toasts.some((t) => t.title === "Maintenance tonight")).toBe(true));
    await new Promise((r) => setTimeout(r, 50));
    expect(app.toasts.filter((t) => t.title === "Maintenance tonight")).toHaveLength(1);
    expect(app.toasts.every((t) => !/\d USD/.test(t.title + t.body))).toBe(true);
  });
});

describe("History's charts and columns", () => {
  it("remembers the charts choice; collapsed by default on a phone", () => {
    expect(chartsShown(false)).toBe(true);
    expect(chartsShown(true)).toBe(false);
    rememberCharts(true);
    expect(localStorage.getItem(CHARTS_KEY)).toBe("shown");
    expect(chartsShown(true)).toBe(true);
    rememberCharts(false);
    expect(chartsShown(false)).toBe(false);
    const broken = {
      getItem: () => {
        throw new Error("denied");
      },
      setItem: () => {
        throw new Error("denied");
      },
    };
    expect(chartsShown(true, broken)).toBe(false);
    expect(() => rememberCharts(true, broken)).not.toThrow();
  });
  it("columns grow to their content, capped, and report no change when nothing grew", () => {
    const w = { date: 60, who: 110, type: 50, amt: 70, bal: 70 };
    expect(fitColumns(w, { date: 58, type: 50 })).toBeNull();
    expect(fitColumns(w, { type: 80.2, amt: 65 })).toEqual({ ...w, type: 81 });
    expect(fitColumns(w, { who: 900 })?.who).toBe(COLUMN_MAX.who);
  });
});
