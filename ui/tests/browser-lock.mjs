// App-lock tests for tests/browser.mjs: turning the lock on in Settings → Security, the lock screen (no
// balances or names behind it), wrong PINs and attempts left, a locked start, turning it off with the
// current PIN, the tenth wrong PIN, and the lock screen on a phone. The fake engine's lock is in
// tests/fake/backend.ts (`appLock: { pin }` in the config starts locked, as a lock that is on does).
// Registered from browser.mjs with its harness (`lockTests({ test, open, ok, eq, tid, shot, until, text })`).
import { overflowProblems } from "./browser-layout.mjs";

const PIN = "4821";

export function lockTests({ test, open, ok, eq, tid, shot, until, text }) {
  const calls = (fake, cmd) => fake((c) => window.__tallyFake.calls.filter((x) => x.cmd === `plugin:tally|${c}`).map((x) => x.args), cmd);
  /** The whole page's markup and text, to look for what must not be there. */
  const pageText = (page) => page.evaluate(() => `${document.documentElement.outerHTML}\n${document.body.innerText}`);

  async function enterPin(page, pin) {
    await page.fill(tid("lock-pin"), pin);
    await page.keyboard.press("Enter");
  }

  test("app lock: turned on in Settings; Lock now hides the balances; a wrong PIN says the attempts left; the right one brings them back", async () => {
    const { page, fake, done } = await open();
    await page.locator(tid("balance-amount")).waitFor();
    const balance = (await text(page, tid("balance-amount"))).trim();
    const memo = (await page.locator(tid("feed-row")).first().innerText()).split("\n").find((l) => l.trim().length > 3);

    await page.click(tid("nav-settings"));
    const status = page.locator(tid("lock-status"));
    await status.waitFor();
    eq(await status.getAttribute("data-enabled"), "false", "off at first");
    await page.click(tid("lock-turn-on"));
    const dialog = page.locator(tid("lock-dialog"));
    await dialog.waitFor();
    const pinInput = page.locator(tid("lock-pin-new"));
    ok(await pinInput.evaluate((el) => el === document.activeElement), "the new PIN has the focus");
    eq(await pinInput.getAttribute("inputmode"), "numeric", "a numeric keyboard");
    eq(await pinInput.getAttribute("autocomplete"), "off", "no autofill");
    ok(await page.locator(tid("lock-minutes-5")).isChecked(), "5 minutes by default");
    // By keyboard: the PIN twice, then the minutes with the arrow keys.
    await page.keyboard.type("1234");
    await page.keyboard.press("Tab");
    await page.keyboard.type("1234");
    await page.keyboard.press("Enter");
    await until(async () => (await text(page, tid("lock-form-error"))).includes("run of digits"), "an obvious PIN is refused");
    await pinInput.fill(PIN);
    await page.fill(tid("lock-pin-confirm"), "4812");
    await page.keyboard.press("Enter");
    await until(async () => (await text(page, tid("lock-form-error"))).includes("don't match"), "the PINs must match");
    await page.fill(tid("lock-pin-confirm"), PIN);
    await page.locator(tid("lock-minutes-5")).focus();
    await page.keyboard.press("ArrowRight");
    ok(await page.locator(tid("lock-minutes-15")).isChecked(), "15 minutes chosen with the arrow key");
    await shot(page, "lock-settings-turn-on");
    await page.click(tid("lock-submit"));
    await page.locator(tid("toast"), { hasText: "App lock is on" }).waitFor();
    await until(async () => (await status.getAttribute("data-enabled")) === "true", "on");
    ok((await text(page, tid("lock-after"))).includes("15 minutes"), "locks after 15 minutes");
    eq(JSON.stringify(await calls(fake, "set_app_lock")), JSON.stringify([{ pin: PIN, after_minutes: 15, current: null }]), "set_app_lock {pin, after_minutes, current}");
    await page.locator(tid("app-lock-part")).scrollIntoViewIfNeeded();
    await shot(page, "lock-settings-on");

    await page.click(tid("nav-home"));
    await page.locator(tid("balance-amount")).waitFor();
    await page.click(tid("nav-settings"));
    await page.click(tid("lock-now"));
    const screen = page.locator(tid("lock-screen"));
    await screen.waitFor();
    eq(await page.locator(tid("balance-amount")).count(), 0, "no balance element");
    const all = await pageText(page);
    ok(!all.includes(balance), `the balance ${balance} is not in the page`);
    ok(!all.includes("Bob Brown") && !all.includes("Carol Chen"), "no counterparty names");
    ok(!memo || !all.includes(memo.trim()), `no memos ("${memo}")`);
    eq(await page.locator(tid("nav-home")).count(), 0, "no navigation");
    ok((await text(page, tid("lock-user"))).includes("Alice Adams"), "whose app it is");
    eq(await page.title(), "Tally — Locked", "the window title says locked, not the unread count");
    ok(await page.locator(tid("lock-pin")).evaluate((el) => el === document.activeElement), "the PIN field has the focus");
    eq(await page.locator(tid("lock-pin")).getAttribute("inputmode"), "numeric", "a numeric keyboard");
    eq(await page.locator(tid("lock-pin")).getAttribute("autocomplete"), "off", "no autofill");

    // Money arriving while locked: no toast names the sender over the lock screen.
    await fake(() => window.__tallyFake.incomingPayment("bob", 1_000, "Rent share"));
    await page.waitForTimeout(300);
    eq(await page.locator(tid("toast")).count(), 0, "no toast while locked");
    ok(!(await pageText(page)).includes("Bob Brown"), "still no names");
    await shot(page, "lock-screen");

    await enterPin(page, "0000");
    await until(async () => (await text(page, tid("lock-error"))).includes("9 attempts left"), "a wrong PIN: 9 attempts left");
    eq(await page.inputValue(tid("lock-pin")), "", "cleared for the next try");
    ok(await page.locator(tid("lock-pin")).evaluate((el) => el === document.activeElement), "and focused");
    await enterPin(page, "5555");
    await until(async () => (await text(page, tid("lock-error"))).includes("8 attempts left"), "8 left");
    await shot(page, "lock-screen-wrong-pin");
    await enterPin(page, PIN);
    await page.locator(tid("lock-status")).waitFor();
    eq(await screen.count(), 0, "the lock screen is gone");
    eq(await page.locator(tid("nav-settings")).getAttribute("aria-current"), "page", "back where it was");
    eq(await fake(() => window.__tallyFake.lock.failures), 0, "the count starts again after the right PIN");
    const usd = (minor) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(minor / 100);
    await page.click(tid("nav-home"));
    const after = await fake(() => window.__tallyFake.available);
    await until(async () => (await text(page, tid("balance-amount"))).trim() === usd(after), "the balance, with the payment that came in while locked");

    // Locked on Home (the window was out of sight for the minutes): the balance goes, and comes back.
    await fake(() => window.__tallyFake.lockNow());
    await screen.waitFor();
    eq(await page.locator(tid("balance-amount")).count(), 0, "no balance element");
    ok(!(await pageText(page)).includes(usd(after)), "the balance is not in the page");
    await enterPin(page, PIN);
    await page.locator(tid("balance-amount")).waitFor();
    eq((await text(page, tid("balance-amount"))).trim(), usd(after), "the balance is back");
    ok((await page.locator(tid("feed-row")).count()) >= 5, "and the feed");
    await done();
  });

  test("app lock: a locked start shows the lock screen first and reads nothing until unlocked", async () => {
    const { page, fake, done } = await open({ appLock: { pin: PIN } });
    await page.locator(tid("lock-screen")).waitFor();
    eq(await page.locator(tid("balance-amount")).count(), 0, "no balance");
    await page.waitForTimeout(300);
    for (const cmd of ["balances", "transactions", "rooms", "notifications", "unread_counts"]) eq((await calls(fake, cmd)).length, 0, `no ${cmd} while locked`);
    const wrong = await fake(() => window.__tallyFake.calls.filter((c) => c.cmd.startsWith("plugin:tally|")).map((c) => c.cmd.slice(13)));
    ok(wrong.includes("app_lock_state") && wrong.includes("session"), `the lock and the session were asked: ${wrong.join(", ")}`);
    await enterPin(page, PIN);
    await page.locator(tid("balance-amount")).waitFor();
    ok((await page.locator(tid("feed-row")).count()) >= 5, "the feed loads");
    await until(async () => (await text(page, tid("conn-pill-text"))).startsWith("Live"), "connection shown");
    await done();
  });

  test("app lock: changing the time and turning it off need the current PIN", async () => {
    const { page, fake, done } = await open({ appLock: { pin: PIN, after_minutes: 5 } });
    await enterPin(page, PIN);
    await page.locator(tid("balance-amount")).waitFor();
    await page.click(tid("nav-settings"));
    await until(async () => (await page.locator(tid("lock-status")).getAttribute("data-enabled")) === "true", "on");

    await page.click(tid("lock-change"));
    await page.locator(tid("lock-dialog")).waitFor();
    ok(await page.locator(tid("lock-current")).evaluate((el) => el === document.activeElement), "the current PIN first");
    await page.locator(tid("lock-minutes-60")).check({ force: true });
    await page.fill(tid("lock-current"), "9999");
    await page.click(tid("lock-submit"));
    await until(async () => (await text(page, tid("lock-form-error"))).includes("That isn't your current PIN"), "a wrong current PIN");
    eq(await page.inputValue(tid("lock-current")), "", "cleared");
    await page.fill(tid("lock-current"), PIN);
    await page.click(tid("lock-submit"));
    await until(async () => (await text(page, tid("lock-after"))).includes("1 hour"), "an hour now");
    eq(await fake(() => window.__tallyFake.lock.pin), PIN, "the same PIN");

    await page.click(tid("lock-turn-off"));
    const dialog = page.locator(tid("lock-dialog"));
    await dialog.waitFor();
    await shot(page, "lock-settings-turn-off");
    await page.click(tid("lock-submit"));
    await until(async () => (await text(page, tid("lock-form-error"))).includes("Enter your current PIN"), "the current PIN is asked for");
    await page.fill(tid("lock-current"), "1111");
    await page.keyboard.press("Enter");
    await until(async () => (await text(page, tid("lock-form-error"))).includes("That isn't your current PIN"), "a wrong one is refused");
    eq(await fake(() => window.__tallyFake.lock.pin), PIN, "still on");
    await page.fill(tid("lock-current"), PIN);
    await page.keyboard.press("Enter");
    await page.locator(tid("toast"), { hasText: "App lock is off" }).waitFor();
    await until(async () => (await page.locator(tid("lock-status")).getAttribute("data-enabled")) === "false", "off");
    eq(await page.locator(tid("lock-now")).count(), 0, "no Lock now when off");
    eq(await fake(() => window.__tallyFake.lock.pin), null, "off in the engine");
    eq(JSON.stringify((await calls(fake, "set_app_lock")).at(-1)), JSON.stringify({ pin: null, after_minutes: 60, current: PIN }), "set_app_lock {pin: null, current}");
    await done();
  });

  test("app lock: the tenth wrong PIN signs out and deletes this device's data", async () => {
    const { page, fake, done } = await open({ appLock: { pin: PIN } });
    await page.locator(tid("lock-screen")).waitFor();
    for (let i = 1; i <= 9; i++) {
      await enterPin(page, String(1000 + i * 7));
      const left = 10 - i;
      await until(async () => (await text(page, tid("lock-error"))).includes(left === 1 ? "1 attempt left" : `${left} attempts left`), `${left} left`);
    }
    await shot(page, "lock-screen-last-attempt");
    await enterPin(page, "9999");
    await page.locator(tid("signin-password")).waitFor();
    eq(JSON.stringify(await fake(() => window.__tallyFake.signOuts)), JSON.stringify([{ wipe: true }]), "signed out with wipe");
    await until(async () => (await text(page, tid("live-region"))).includes("ten wrong PINs"), "says why");
    await done();
  });

  test("app lock: the lock screen at 360 px", async () => {
    for (const dark of [false, true]) {
      const { page, done } = await open({ appLock: { pin: PIN } }, { viewport: { width: 360, height: 640 }, dark });
      await page.locator(tid("lock-screen")).waitFor();
      await enterPin(page, "0000");
      await page.locator(tid("lock-error")).waitFor();
      const problems = await page.evaluate(overflowProblems);
      eq(problems.length, 0, `nothing sticks out sideways: ${problems.join("; ")}`);
      for (const id of ["lock-pin", "lock-unlock", "lock-sign-out"]) {
        const box = await page.locator(tid(id)).boundingBox();
        ok(box && box.x >= 0 && box.x + box.width <= 360 && box.y >= 0 && box.y + box.height <= 640, `${id} is on screen: ${JSON.stringify(box)}`);
        ok(box.height >= 36, `${id} is big enough to tap (${box.height} px)`);
      }
      await shot(page, `lock-screen-360${dark ? "-dark" : ""}`);
      // The way out: Sign out deletes this device's data.
      await page.click(tid("lock-sign-out"));
      await page.locator(tid("lock-sign-out-dialog")).waitFor();
      const problems2 = await page.evaluate(overflowProblems);
      eq(problems2.length, 0, `the sign-out dialog fits: ${problems2.join("; ")}`);
      if (!dark) await shot(page, "lock-sign-out-360");
      await done();
    }
  });

  test("app lock: Sign out on the lock screen signs out and deletes this device's data", async () => {
    const { page, fake, done } = await open({ appLock: { pin: PIN } });
    await page.locator(tid("lock-screen")).waitFor();
    await page.click(tid("lock-sign-out"));
    const dialog = page.locator(tid("lock-sign-out-dialog"));
    await dialog.waitFor();
    ok((await dialog.innerText()).includes("deleted from this device"), "says what is deleted");
    eq(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Cancel", "Cancel has the focus");
    await page.click(tid("lock-sign-out-confirm"));
    await page.locator(tid("signin-password")).waitFor();
    eq(JSON.stringify(await fake(() => window.__tallyFake.signOuts)), JSON.stringify([{ wipe: true }]), "sign_out {wipe: true}");
    await done();
  });
}
