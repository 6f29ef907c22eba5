// The app lock against the fake engine: the lock screen instead of the account, wrong PINs, the tenth
// (signed out, data deleted), and Settings → Security → App lock.
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import App from "../../src/App.svelte";
import SecuritySection from "../../src/components/SecuritySection.svelte";
import { lock } from "../../src/lib/lock.svelte";
import { app } from "../../src/lib/store.svelte";
import { installFake } from "./helpers";

afterEach(() => {
  cleanup();
  clearMocks();
  localStorage.clear();
  app.toasts = [];
  app.session = undefined;
  lock.state = undefined;
});

const type = (id: string, value: string) => fireEvent.input(screen.getByTestId(id), { target: { value } });
const calls = (fake: ReturnType<typeof installFake>, cmd: string) => fake.calls.filter((c) => c.cmd === `plugin:tally|${cmd}`).map((c) => c.args);
const usd = (minor: number) => new Intl.NumberFormat(navigator.language, { style: "currency", currency: "USD" }).format(minor / 100);

async function unlockWith(pin: string) {
  await type("lock-pin", pin);
  await fireEvent.click(screen.getByTestId("lock-unlock"));
}

describe("the lock screen", () => {
  it("shows first at a locked start, with nothing of the account; the right PIN brings it back", async () => {
    const fake = installFake({ appLock: { pin: "4821" } });
    render(App);
    await screen.findByTestId("lock-screen", {}, { timeout: 3000 });
    expect(screen.queryByTestId("balance-amount")).toBeNull();
    expect(document.body.textContent).not.toContain(usd(fake.available));
    expect(document.body.textContent).not.toContain("Bob Brown");
    expect(screen.getByTestId("lock-user").textContent).toContain("Alice Adams");
    const input = screen.getByTestId("lock-pin");
    expect(input.getAttribute("inputmode")).toBe("numeric");
    expect(input.getAttribute("autocomplete")).toBe("off");
    expect(document.title).toBe("Tally — Locked");
    // Nothing was read while locked but the lock itself.
    expect(calls(fake, "balances")).toHaveLength(0);

    await unlockWith("0000");
    expect((await screen.findByTestId("lock-error")).textContent).toContain("9 attempts left");
    expect((input as HTMLInputElement).value).toBe("");
    await unlockWith("4821");
    const amount = await screen.findByTestId("balance-amount", {}, { timeout: 3000 });
    expect(amount.textContent?.trim()).toBe(usd(fake.available));
    expect(screen.queryByTestId("lock-screen")).toBeNull();
    await waitFor(() => expect(calls(fake, "unread_counts").length).toBeGreaterThan(0));
    expect(calls(fake, "prefs").length).toBeGreaterThan(0);
  });

  it("locks on the engine's `lock` change, and shows no toasts of the account while locked", async () => {
    const fake = installFake({});
    fake.setAppLock("4821", 5, null);
    render(App);
    await screen.findByTestId("balance-amount", {}, { timeout: 3000 });
    fake.lockNow();
    await screen.findByTestId("lock-screen");
    expect(screen.queryByTestId("balance-amount")).toBeNull();
    fake.incomingPayment("bob", 1_000, "Rent share");
    await new Promise((r) => setTimeout(r, 50));
    expect(app.toasts).toHaveLength(0);
    expect(document.body.textContent).not.toContain("Bob Brown");
    await unlockWith("4821");
    await screen.findByTestId("balance-amount", {}, { timeout: 3000 });
  });

  it("shows the lock screen when a command is refused as locked (before any event)", async () => {
    const fake = installFake({});
    fake.setAppLock("4821", 5, null);
    render(App);
    await screen.findByTestId("balance-amount", {}, { timeout: 3000 });
    fake.lock.locked = true; // no `lock` event: the next read finds out
    fake.changed({ topic: "balances" });
    await screen.findByTestId("lock-screen");
  });

  it("the tenth wrong PIN signs out and deletes this device's data", async () => {
    const fake = installFake({ appLock: { pin: "4821" } });
    render(App);
    await screen.findByTestId("lock-screen", {}, { timeout: 3000 });
    for (let i = 1; i <= 9; i++) {
      await unlockWith(String(1000 + i * 7));
      await waitFor(() => expect(screen.getByTestId("lock-error").textContent).toContain(i === 9 ? "1 attempt left" : `${10 - i} attempts left`));
    }
    await unlockWith("9999");
    await screen.findByTestId("signin-username", {}, { timeout: 3000 });
    expect(fake.signOuts).toEqual([{ wipe: true }]);
    expect(app.toasts.some((t) => t.title === "Signed out after ten wrong PINs")).toBe(true);
  });

  it("Sign out is the way out: it deletes this device's data", async () => {
    const fake = installFake({ appLock: { pin: "4821" } });
    render(App);
    await screen.findByTestId("lock-screen", {}, { timeout: 3000 });
    await fireEvent.click(screen.getByTestId("lock-sign-out"));
    await fireEvent.click(await screen.findByTestId("lock-sign-out-confirm"));
    await screen.findByTestId("signin-username", {}, { timeout: 3000 });
    expect(fake.signOuts).toEqual([{ wipe: true }]);
  });
});

describe("Settings → Security → App lock", () => {
  it("turns on with a PIN typed twice and the minutes; changes; turns off only with the current PIN", async () => {
    const fake = installFake({});
    render(SecuritySection);
    await fireEvent.click(await screen.findByTestId("lock-turn-on"));
    expect((screen.getByTestId("lock-minutes-5") as HTMLInputElement).checked).toBe(true);
    await type("lock-pin-new", "4821");
    await type("lock-pin-confirm", "4812");
    await fireEvent.click(screen.getByTestId("lock-submit"));
    expect((await screen.findByTestId("lock-form-error")).textContent).toContain("don't match");
    await type("lock-pin-confirm", "4821");
    await fireEvent.click(screen.getByTestId("lock-minutes-15"));
    await fireEvent.click(screen.getByTestId("lock-submit"));
    await waitFor(() => expect(screen.getByTestId("lock-status").getAttribute("data-enabled")).toBe("true"));
    expect(calls(fake, "set_app_lock")).toEqual([{ pin: "4821", after_minutes: 15, current: null }]);
    expect(screen.getByTestId("lock-after").textContent).toContain("15 minutes");

    // Change only the minutes: the current PIN is asked for and kept.
    await fireEvent.click(screen.getByTestId("lock-change"));
    await fireEvent.click(await screen.findByTestId("lock-minutes-60"));
    await type("lock-current", "0000");
    await fireEvent.click(screen.getByTestId("lock-submit"));
    expect((await screen.findByTestId("lock-form-error")).textContent).toBe("That isn't your current PIN.");
    await type("lock-current", "4821");
    await fireEvent.click(screen.getByTestId("lock-submit"));
    await waitFor(() => expect(screen.getByTestId("lock-after").textContent).toContain("1 hour"));
    expect(calls(fake, "set_app_lock").at(-1)).toEqual({ pin: "4821", after_minutes: 60, current: "4821" });

    await fireEvent.click(screen.getByTestId("lock-turn-off"));
    await fireEvent.click(await screen.findByTestId("lock-submit"));
    expect((await screen.findByTestId("lock-form-error")).textContent).toBe("Enter your current PIN.");
    await type("lock-current", "4821");
    await fireEvent.click(screen.getByTestId("lock-submit"));
    await waitFor(() => expect(screen.getByTestId("lock-status").getAttribute("data-enabled")).toBe("false"));
    expect(fake.lock.pin).toBeNull();
  });

  it("Lock now locks", async () => {
    const fake = installFake({});
    fake.setAppLock("4821", 5, null);
    render(SecuritySection);
    await fireEvent.click(await screen.findByTestId("lock-now"));
    await waitFor(() => expect(lock.locked).toBe(true));
    expect(fake.lock.locked).toBe(true);
  });
});
