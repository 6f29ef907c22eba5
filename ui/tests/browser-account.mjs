// Account tests for tests/browser.mjs: sign-up as each server's policy allows, sign-in with a second
// factor, Settings → Security (password, two-factor with its QR code and recovery codes, devices) and
// signing out. The fake hub's accounts are in tests/fake/accounts.ts: the authenticator's code is 123456,
// once per 30-second step (`nextTotpStep()` is waiting for the next one).
// Registered from browser.mjs with its harness (`accountTests({ test, open, ok, eq, tid, shot, until, text })`).

const CODE = "123456";

export function accountTests({ test, open, ok, eq, tid, shot, until, text }) {
  const calls = (fake, cmd) => fake((c) => window.__tallyFake.calls.filter((x) => x.cmd === `plugin:tally|${c}`).map((x) => x.args), cmd);

  /** The sign-in screen in "Create an account" mode, for `server`. */
  async function signUpAt(page, server) {
    await page.locator(tid("signin-username")).waitFor();
    await page.click(tid("signup-open"));
    await page.fill(tid("signin-server"), server);
  }

  // ---------- sign-up ----------

  test("sign-up (open server): the strength meter loads on first use, the account is created and signed in", async () => {
    const { page, fake, done } = await open({ signedIn: false });
    const scripts = () => page.evaluate(() => performance.getEntriesByType("resource").filter((e) => /\.js(\?|$)/.test(e.name)).map((e) => e.name));
    await signUpAt(page, "http://127.0.0.1:8787");
    await page.locator(tid("signup-username")).waitFor();
    eq(await page.locator(tid("signup-invite")).count(), 0, "no invite field on an open server");
    const before = (await scripts()).length;
    await page.fill(tid("signup-username"), "zoe");
    await page.fill(tid("signup-display-name"), "Zoe Zhang");
    await page.fill(tid("signup-password"), "short");
    const meter = page.locator(tid("password-meter"));
    await until(async () => (await meter.innerText()).includes("Too short — at least 12 characters"), "too short");
    await page.fill(tid("signup-password"), "password2024");
    await until(async () => Number(await meter.getAttribute("data-score")) < 3 && (await meter.getAttribute("data-score")) !== "", "a common word and a year are weak", 15_000);
    ok((await meter.innerText()).startsWith("Weak") || (await meter.innerText()).startsWith("Fair"), `weak or fair: ${await meter.innerText()}`);
    ok((await scripts()).length > before, "zxcvbn was loaded only once a password was typed");
    await page.fill(tid("signup-password"), "correct horse battery staple");
    await until(async () => Number(await meter.getAttribute("data-score")) >= 3, "a passphrase is good");
    eq(await meter.locator('[role="meter"]').getAttribute("aria-valuetext"), (await meter.innerText()).includes("Strong") ? "Strong" : "Good", "the meter says it to screen readers");
    await shot(page, "signup-open");
    await page.fill(tid("signup-confirm"), "correct horse battery stapel");
    await page.click(tid("signup-submit"));
    await until(async () => (await text(page, tid("signup-error-confirm"))).includes("don't match"), "the confirmation must match");
    await page.fill(tid("signup-confirm"), "correct horse battery staple");
    await page.keyboard.press("Enter");
    await page.locator(tid("balance-amount")).waitFor();
    const args = await calls(fake, "sign_up");
    eq(JSON.stringify(args), JSON.stringify([{ server: "http://127.0.0.1:8787", username: "zoe", display_name: "Zoe Zhang", password: "correct horse battery staple", invite: null }]), "sign_up args");
    await page.locator(tid("toast"), { hasText: "Welcome, Zoe" }).waitFor();
    await done();
  });

  test("sign-up: a weak password shows the hub's message; a taken username says so", async () => {
    const { page, done } = await open({ signedIn: false });
    await signUpAt(page, "http://127.0.0.1:8787");
    await page.locator(tid("signup-username")).waitFor();
    await page.fill(tid("signup-username"), "zoe");
    await page.fill(tid("signup-password"), "password1234");
    await page.fill(tid("signup-confirm"), "password1234");
    await page.click(tid("signup-submit"));
    const error = page.locator(tid("signin-error"));
    await until(async () => (await error.innerText()).includes("Too easy to guess (This is a very common password.)"), "the hub's reason, as a sentence");
    eq(await page.locator(tid("signup-password")).getAttribute("aria-invalid"), "true", "on the password");
    ok(await page.locator(tid("signup-password")).evaluate((el) => el === document.activeElement), "which has the focus");
    await shot(page, "signup-weak-password");
    await page.fill(tid("signup-username"), "bob");
    await page.fill(tid("signup-password"), "plum-otter-kettle-93");
    await page.fill(tid("signup-confirm"), "plum-otter-kettle-93");
    await page.click(tid("signup-submit"));
    await until(async () => (await error.innerText()).includes("That username is taken"), "taken");
    eq(await page.locator(tid("signup-username")).getAttribute("aria-invalid"), "true", "on the username");
    await done();
  });

  test("the first screen opens without an error when the remembered server does not answer; typing an address that does not answer says so", async () => {
    const { page, done } = await open({ signedIn: false, unreachable: ["http://127.0.0.1:8787"] });
    await page.locator(tid("signin-server")).waitFor();
    await page.waitForTimeout(800); // past the server probe
    eq(await page.locator('[role="alert"]:has-text("reach the server")').count(), 0, "no error before anything was typed");
    await page.fill(tid("signin-server"), "https://unreachable.example");
    await until(async () => (await page.locator(tid("signin-error")).count()) > 0, `said once the user typed it: ${await page.evaluate(() => document.body.innerText.slice(0, 400))}`);
    await done();
  });

  test("the connection pill shows the engine's state after a two-factor sign-in, even when an older answer arrives late", async () => {
    const { page, done } = await open({ signedIn: false, twoFactor: ["bob"], tick: 20, connStateLagMs: 300 });
    await page.fill(tid("signin-username"), "bob");
    await page.fill(tid("signin-password"), "tally-demo");
    await page.click(tid("signin-submit"));
    await page.locator(tid("signin-code")).waitFor();
    await page.fill(tid("signin-code"), CODE);
    await page.click(tid("signin-code-submit"));
    await page.locator(tid("balance-amount")).waitFor();
    await page.waitForTimeout(900); // past the late answers
    eq(await page.locator(tid("conn-pill")).getAttribute("data-state"), "live", "the pill says live, as the engine is");
    await done();
  });

  test("sign-up: every problem the form can tell is said at once, in its field, before anything is sent", async () => {
    const { page, fake, done } = await open({ signedIn: false });
    await signUpAt(page, "http://127.0.0.1:8787");
    await page.locator(tid("signup-username")).waitFor();
    await page.fill(tid("signup-username"), "No Spaces!");
    await page.fill(tid("signup-password"), "short");
    await page.fill(tid("signup-confirm"), "shorter");
    await page.click(tid("signup-submit"));
    await page.locator(tid("signup-error-username")).waitFor();
    ok((await text(page, tid("signup-error-username"))).includes("no spaces"), "the username's format");
    ok((await text(page, tid("signup-error-new_password"))).includes("at least"), "the password's length");
    ok((await text(page, tid("signup-error-confirm"))).includes("don't match"), "the confirmation");
    eq(await page.locator(tid("signup-username")).getAttribute("aria-invalid"), "true", "the username field is marked");
    ok((await page.locator(tid("signup-username")).getAttribute("aria-describedby")).includes("signup-error-username"), "and described by its error");
    ok(await page.locator(tid("signup-username")).evaluate((el) => el === document.activeElement), "the first problem has the focus");
    eq((await calls(fake, "sign_up")).length, 0, "nothing was sent");
    await shot(page, "signup-all-errors");
    await done();
  });

  test("sign-up: a closed server says to ask the operator; an invite server needs a valid code; two-factor required leads to set-up", async () => {
    const servers = {
      "https://closed.example": { registration: "closed" },
      "https://invite.example": { registration: "invite", require_two_factor: true, invites: ["inv_good"] },
    };
    const { page, fake, done } = await open({ signedIn: false, servers });
    await signUpAt(page, "https://closed.example");
    const closed = page.locator(tid("signup-closed"));
    await closed.waitFor();
    ok((await closed.innerText()).includes("Ask its operator"), "ask the operator");
    eq(await page.locator(tid("signup-submit")).count(), 0, "no form to fill in");
    await shot(page, "signup-closed");

    await page.fill(tid("signin-server"), "https://unreachable.example");
    await until(async () => (await text(page, tid("signup-status"))).includes("Couldn't reach the server"), "an unreachable server is explained");

    await page.fill(tid("signin-server"), "https://invite.example");
    await page.locator(tid("signup-invite")).waitFor();
    await page.locator(tid("signup-2fa-note")).waitFor();
    await page.fill(tid("signup-username"), "yuki");
    await page.fill(tid("signup-password"), "plum-otter-kettle-93");
    await page.fill(tid("signup-confirm"), "plum-otter-kettle-93");
    await page.click(tid("signup-submit"));
    await until(async () => (await text(page, tid("signup-error-invite"))).includes("Enter the invite code"), "the invite is asked for");
    ok(await page.locator(tid("signup-invite")).evaluate((el) => el === document.activeElement), "in its field");
    await page.fill(tid("signup-invite"), "inv_bad");
    await page.click(tid("signup-submit"));
    await until(async () => (await text(page, tid("signin-error"))).includes("This invite code is not valid"), "the hub's reason");
    await shot(page, "signup-invite");
    await page.fill(tid("signup-invite"), "inv_good");
    await page.click(tid("signup-submit"));
    eq((await calls(fake, "sign_up")).at(-1).invite, "inv_good", "the invite is sent");

    // The server requires two-factor: a dialog right away, and a banner until it is on.
    const dialog = page.locator(tid("enrol-dialog"));
    await dialog.waitFor();
    await page.locator(tid("enrol-banner")).waitFor();
    // The engine's `session` (re-read on the welcome's `changed`) does not carry must_enrol: the prompt stays.
    await until(async () => (await fake(() => window.__tallyFake.conn.state)) === "live", "connected");
    await page.waitForTimeout(300);
    eq(await dialog.count(), 1, "the dialog stays after the session is re-read");
    eq(await page.locator(tid("enrol-banner")).count(), 1, "and the banner");
    await shot(page, "enrol-dialog");
    await page.click(tid("enrol-dialog-go"));
    // A security change asks for the password again, even right after signing up.
    await page.fill(tid("2fa-password"), "plum-otter-kettle-93");
    await page.click(tid("2fa-password-continue"));
    await page.locator(`${tid("2fa-dialog")} ${tid("qr-code")} svg`).waitFor();
    await page.fill(tid("2fa-code"), CODE);
    await page.click(tid("2fa-enable"));
    await page.locator(tid("2fa-recovery-codes")).waitFor();
    await page.check(tid("2fa-saved"));
    await page.click(tid("2fa-done"));
    await until(async () => (await page.locator(tid("2fa-status")).getAttribute("data-enabled")) === "true", "two-factor is on");
    ok((await text(page, tid("2fa-status"))).includes("Required by your server"), "required, so no Turn off");
    eq(await page.locator(tid("2fa-turn-off")).count(), 0, "no Turn off when required");
    await page.click(tid("nav-home"));
    await page.locator(tid("balance-amount")).waitFor();
    eq(await page.locator(tid("enrol-banner")).count(), 0, "the banner is gone once two-factor is on");
    await done();
  });

  // ---------- sign-in with a second factor ----------

  test("sign-in with two-factor asks for the code, then gets in; a code works once; a recovery code too", async () => {
    const { page, fake, done } = await open({ signedIn: false, twoFactor: ["bob"] });
    await page.locator(tid("signin-username")).waitFor();
    await page.fill(tid("signin-server"), "http://127.0.0.1:8787");
    await page.fill(tid("signin-username"), "bob");
    await page.fill(tid("signin-password"), "tally-demo");
    await page.click(tid("signin-submit"));
    const input = page.locator(tid("signin-code"));
    await input.waitFor();
    eq(await input.getAttribute("autocomplete"), "one-time-code", "autocomplete=one-time-code");
    eq(await input.getAttribute("inputmode"), "numeric", "a numeric keyboard");
    ok(await input.evaluate((el) => el === document.activeElement), "the code field has the focus");
    ok((await text(page, tid("signin-code-prompt"))).includes("6-digit code"), "says what to type");
    await page.locator(tid("signin-use-recovery")).waitFor();
    await shot(page, "signin-two-factor");
    await page.keyboard.type("12a3");
    eq(await input.inputValue(), "123", "digits only");
    await input.fill("000000");
    await page.keyboard.press("Enter");
    await until(async () => (await text(page, tid("signin-error"))).includes("That code isn't right"), "a wrong code");
    eq(await input.inputValue(), "", "cleared for the next try");
    await input.fill(CODE);
    await page.keyboard.press("Enter");
    await page.locator(tid("balance-amount")).waitFor();
    const last = (await calls(fake, "sign_in")).at(-1);
    eq(JSON.stringify(last), JSON.stringify({ server: "http://127.0.0.1:8787", username: "bob", password: "tally-demo", code: CODE }), "the same credentials and the code");

    // Sign out (keeping data) and in again within the same 30 s: the code was used.
    await page.click(tid("nav-settings"));
    await page.click(tid("sign-out"));
    await page.check(tid("sign-out-keep"));
    await page.click(tid("sign-out-confirm"));
    await page.locator(tid("signin-password")).waitFor();
    await page.fill(tid("signin-password"), "tally-demo");
    await page.click(tid("signin-submit"));
    await input.waitFor();
    await input.fill(CODE);
    await page.keyboard.press("Enter");
    await until(async () => (await text(page, tid("signin-error"))).includes("already used"), "a replayed code is refused");
    // A recovery code instead.
    await page.click(tid("signin-use-recovery"));
    eq(await input.getAttribute("inputmode"), "text", "a recovery code is text");
    await input.fill("AB3DE-F4GHJ");
    await page.keyboard.press("Enter");
    await page.locator(tid("balance-amount")).waitFor();
    eq(await fake(() => window.__tallyFake.accounts.account("bob").recovery.length), 9, "the recovery code is spent");

    // Back from the code step returns to the password.
    await page.click(tid("nav-settings"));
    await page.click(tid("sign-out"));
    await page.click(tid("sign-out-confirm"));
    await page.locator(tid("signin-password")).waitFor();
    await page.fill(tid("signin-password"), "tally-demo");
    await page.click(tid("signin-submit"));
    await input.waitFor();
    await page.click(tid("signin-back"));
    await page.locator(tid("signin-password")).waitFor();
    eq(await page.inputValue(tid("signin-password")), "", "the password is not kept");
    await done();
  });

  test("sign-in: too many wrong codes says to wait", async () => {
    const { page, done } = await open({ signedIn: false, twoFactor: ["bob"] });
    await page.locator(tid("signin-username")).waitFor();
    await page.fill(tid("signin-username"), "bob");
    await page.fill(tid("signin-password"), "tally-demo");
    await page.click(tid("signin-submit"));
    const input = page.locator(tid("signin-code"));
    await input.waitFor();
    for (let i = 0; i < 5; i++) {
      await input.fill(`00000${i}`);
      await page.keyboard.press("Enter");
      await until(async () => (await input.inputValue()) === "" && (await page.locator(tid("signin-error")).count()) === 1, `try ${i + 1} answered`);
    }
    ok((await text(page, tid("signin-error"))).includes("Too many failed attempts. Wait a few minutes"), "told to wait");
    await done();
  });

  // ---------- Settings → Security ----------

  test("settings: turning on two-factor asks for the password, shows a QR code, the key and ten recovery codes (copy, download); new codes and turning off need the password and a new code", async () => {
    const { page, fake, done } = await open();
    await page.click(tid("nav-settings"));
    const status = page.locator(tid("2fa-status"));
    await status.waitFor();
    eq(await status.getAttribute("data-enabled"), "false", "off at first");
    await page.click(tid("2fa-turn-on"));
    const dialog = page.locator(tid("2fa-dialog"));
    ok(await page.locator(tid("2fa-password")).evaluate((el) => el === document.activeElement), "the password first, with the focus");
    await page.click(tid("2fa-password-continue"));
    await until(async () => (await text(page, tid("2fa-error-msg"))).includes("Enter your current password"), "an empty password");
    await page.fill(tid("2fa-password"), "not-it");
    await page.keyboard.press("Enter");
    await until(async () => (await text(page, tid("2fa-error-msg"))).includes("isn't your current password"), "a wrong password");
    eq(await page.inputValue(tid("2fa-password")), "", "cleared");
    await shot(page, "settings-2fa-password");
    await page.fill(tid("2fa-password"), "tally-demo");
    await page.keyboard.press("Enter");
    const svg = dialog.locator(`${tid("qr-code")} svg`);
    await svg.waitFor();
    eq(await svg.getAttribute("role"), "img", "the QR code is an image");
    ok((await svg.getAttribute("aria-label")).includes("QR code"), "with a name");
    ok((await svg.locator("path").getAttribute("d")).length > 500, "drawn from the otpauth URL");
    eq((await text(page, tid("2fa-secret"))).trim(), "JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP", "the key, in groups of four");
    ok(await page.locator(tid("2fa-code")).evaluate((el) => el === document.activeElement), "the code field has the focus");
    await shot(page, "settings-2fa-scan");
    await page.fill(tid("2fa-code"), "999999");
    await page.click(tid("2fa-enable"));
    await until(async () => (await text(page, tid("2fa-error-msg"))).includes("doesn't match"), "a wrong code");
    await page.fill(tid("2fa-code"), CODE);
    await page.keyboard.press("Enter");
    const codes = page.locator(`${tid("2fa-recovery-codes")} li`);
    await codes.first().waitFor();
    eq(await codes.count(), 10, "ten recovery codes");
    const list = await codes.allInnerTexts();
    eq(new Set(list).size, 10, "all different");
    ok(list.every((c) => /^[a-z0-9]{5}-[a-z0-9]{5}$/.test(c.trim())), `xxxxx-xxxxx: ${list[0]}`);
    await shot(page, "settings-2fa-codes");

    const [download] = await Promise.all([page.waitForEvent("download"), page.click(tid("2fa-download-codes"))]);
    eq(download.suggestedFilename(), "tally-recovery-codes-alice.txt", "the file name");
    const file = await download.path().then((p) => import("node:fs").then((fs) => fs.readFileSync(p, "utf8")));
    ok(list.every((c) => file.includes(c.trim())) && file.includes("@alice"), "the file holds the codes and the account");
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.click(tid("2fa-copy-codes"));
    await page.locator(tid("toast"), { hasText: "Recovery codes copied" }).waitFor();
    eq((await page.evaluate(() => navigator.clipboard.readText())).split("\n").length, 10, "copied one a line");

    ok(await page.locator(tid("2fa-done")).isDisabled(), "Done waits for 'I saved them'");
    await page.keyboard.press("Escape");
    await page.locator(tid("2fa-close-warning")).waitFor();
    eq(await dialog.count(), 1, "closing before saving asks once more");
    await page.check(tid("2fa-saved"));
    await page.click(tid("2fa-done"));
    await until(async () => (await dialog.count()) === 0, "closed");
    await until(async () => (await status.getAttribute("data-enabled")) === "true", "on");
    ok((await text(page, tid("2fa-recovery-left"))).includes("10 recovery codes left"), "10 left");
    await page.locator(tid("toast"), { hasText: "Two-factor sign-in is on" }).waitFor();

    // New recovery codes: the password and a code; the codes are shown once, like at set-up.
    await fake(() => window.__tallyFake.accounts.nextTotpStep());
    await page.click(tid("2fa-new-codes"));
    await page.locator(tid("2fa-off-dialog")).waitFor();
    ok((await text(page, tid("2fa-off-dialog"))).includes("Make new recovery codes"), "its own title");
    await page.fill(tid("2fa-off-code"), CODE);
    await page.click(tid("2fa-off-confirm"));
    await until(async () => (await text(page, tid("2fa-off-error"))).includes("Enter your current password"), "the password is asked for");
    await page.fill(tid("2fa-off-password"), "tally-demo");
    await page.click(tid("2fa-off-confirm"));
    await codes.first().waitFor();
    const fresh = await codes.allInnerTexts();
    ok(fresh.length === 10 && fresh.every((c) => !list.includes(c)), "ten new codes");
    await page.check(tid("2fa-saved"));
    await page.click(tid("2fa-done"));
    await until(async () => (await dialog.count()) === 0, "closed");

    // Turning it off: a wrong password is refused; the code just used is refused (once per step); the next works.
    await page.click(tid("2fa-turn-off"));
    await page.locator(tid("2fa-off-dialog")).waitFor();
    await page.fill(tid("2fa-off-password"), "not-it");
    await page.fill(tid("2fa-off-code"), CODE);
    await page.click(tid("2fa-off-confirm"));
    await until(async () => (await text(page, tid("2fa-off-error"))).includes("isn't your current password"), "a wrong password");
    await page.fill(tid("2fa-off-password"), "tally-demo");
    await page.fill(tid("2fa-off-code"), CODE);
    await page.click(tid("2fa-off-confirm"));
    await until(async () => (await text(page, tid("2fa-off-error"))).includes("already used"), "the same step's code is refused");
    await fake(() => window.__tallyFake.accounts.nextTotpStep());
    await page.fill(tid("2fa-off-code"), CODE);
    await page.click(tid("2fa-off-confirm"));
    await until(async () => (await status.getAttribute("data-enabled")) === "false", "off again");
    await done();
  });

  test("settings: the devices list; signing one out removes it; then all the others", async () => {
    const { page, fake, done } = await open();
    await page.click(tid("nav-settings"));
    const rows = page.locator(tid("device"));
    await rows.first().waitFor();
    eq(await rows.count(), 3, "three devices");
    eq(await rows.first().getAttribute("data-current"), "true", "this device first");
    ok((await rows.first().innerText()).includes("This device"), "with its badge");
    ok((await rows.first().innerText()).includes("Active now"), "active now");
    eq(await rows.first().locator(tid("device-sign-out")).count(), 0, "no Sign out for this device (that is Sign out)");
    const phone = rows.filter({ hasText: "Pixel 8" });
    const t = await phone.innerText();
    ok(t.includes("Android") && t.includes("203.0.113.24") && t.includes("First signed in") && t.includes("Last active 2 hours ago"), `platform, IP, first and last seen: ${t}`);
    await page.locator(tid("devices-part")).scrollIntoViewIfNeeded();
    await shot(page, "settings-devices");
    await phone.locator(tid("device-sign-out")).click();
    const dialog = page.locator(tid("device-dialog"));
    await dialog.waitFor();
    ok((await dialog.innerText()).includes("Sign out Pixel 8?"), "asks first");
    eq(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Cancel", "Cancel has the focus");
    await page.click(tid("device-sign-out-confirm"));
    await page.locator(tid("toast"), { hasText: "Signed out Pixel 8" }).waitFor();
    await until(async () => (await rows.count()) === 2, "the device is gone");
    eq(await phone.count(), 0, "Pixel 8 is not listed");
    eq(JSON.stringify(await calls(fake, "sign_out_device")), JSON.stringify([{ id: "s-alice-phone" }]), "sign_out_device {id}");

    await page.click(tid("devices-sign-out-others"));
    await dialog.waitFor();
    await page.click(tid("device-sign-out-confirm"));
    await page.locator(tid("toast"), { hasText: "1 other device was signed out." }).waitFor();
    await until(async () => (await rows.count()) === 1, "only this device is left");
    eq(await page.locator(tid("devices-sign-out-others")).count(), 0, "nothing left to sign out");
    await done();
  });

  test("settings: changing the password checks the current one, shows the hub's reason, and signs the other devices out", async () => {
    const { page, fake, done } = await open();
    await page.click(tid("nav-settings"));
    await page.locator(tid("device")).first().waitFor();
    await page.click(tid("password-change"));
    const dialog = page.locator(tid("password-dialog"));
    await dialog.waitFor();
    ok(await page.locator(tid("password-current")).evaluate((el) => el === document.activeElement), "the current password has the focus");
    const error = page.locator(tid("password-error"));
    await page.fill(tid("password-current"), "not-it");
    await page.fill(tid("password-new"), "plum-otter-kettle-93");
    await page.fill(tid("password-confirm"), "plum-otter-kettle-93");
    await page.click(tid("password-submit"));
    await until(async () => (await error.innerText()).includes("That isn't your current password"), "wrong current password");
    eq(await page.inputValue(tid("password-current")), "", "cleared");
    await page.fill(tid("password-current"), "tally-demo");
    await page.fill(tid("password-new"), "alicealice2024");
    await page.fill(tid("password-confirm"), "alicealice2024");
    await page.click(tid("password-submit"));
    await until(async () => (await error.innerText()).startsWith("Too easy to guess"), "the hub's reason");
    await shot(page, "settings-password-weak");
    await page.fill(tid("password-new"), "plum-otter-kettle-93");
    await page.fill(tid("password-confirm"), "plum-otter-kettle-93");
    await page.click(tid("password-submit"));
    const toast = page.locator(tid("toast"), { hasText: "Password changed" });
    await toast.waitFor();
    ok((await toast.innerText()).includes("2 other devices were signed out."), `says how many: ${await toast.innerText()}`);
    eq(await dialog.count(), 0, "the dialog closed");
    await until(async () => (await page.locator(tid("device")).count()) === 1, "the other devices are gone from the list");
    eq(await fake(() => window.__tallyFake.accounts.account("alice").password), "plum-otter-kettle-93", "changed on the hub");
    eq(
      JSON.stringify((await calls(fake, "change_password")).at(-1)),
      JSON.stringify({ current: "tally-demo", new: "plum-otter-kettle-93", code: null }),
      "change_password {current, new, code: null} (two-factor is off)",
    );
    await done();
  });

  test("settings: with two-factor on, changing the password asks for a code too", async () => {
    const { page, fake, done } = await open({ twoFactor: ["alice"] });
    await page.click(tid("nav-settings"));
    await until(async () => (await page.locator(tid("2fa-status")).getAttribute("data-enabled")) === "true", "two-factor is on");
    await page.click(tid("password-change"));
    await page.locator(tid("password-code")).waitFor();
    await page.fill(tid("password-current"), "tally-demo");
    await page.fill(tid("password-new"), "plum-otter-kettle-93");
    await page.fill(tid("password-confirm"), "plum-otter-kettle-93");
    await page.click(tid("password-submit"));
    await until(async () => (await text(page, tid("password-error"))).length > 0, "the code is asked for");
    ok(await page.locator(tid("password-code")).evaluate((el) => el === document.activeElement), "in its field");
    await fake(() => window.__tallyFake.accounts.nextTotpStep());
    await page.fill(tid("password-code"), CODE);
    await page.click(tid("password-submit"));
    await page.locator(tid("toast"), { hasText: "Password changed" }).waitFor();
    eq((await calls(fake, "change_password")).at(-1).code, CODE, "the code is sent");
    eq(await fake(() => window.__tallyFake.accounts.account("alice").password), "plum-otter-kettle-93", "changed on the hub");
    await done();
  });

  test("settings offline: Security says it needs the connection, and loads once it is back", async () => {
    const { page, fake, done } = await open({ conn: { state: "offline", since: Date.UTC(2026, 0, 5, 9, 12) } });
    await page.click(tid("nav-settings"));
    await until(async () => (await text(page, tid("devices-error"))).includes("You're offline"), "devices: offline");
    ok((await text(page, tid("2fa-error"))).includes("You're offline"), "two-factor: offline");
    await page.click(tid("password-change"));
    await page.fill(tid("password-current"), "tally-demo");
    await page.fill(tid("password-new"), "plum-otter-kettle-93");
    await page.fill(tid("password-confirm"), "plum-otter-kettle-93");
    await page.click(tid("password-submit"));
    await until(async () => (await text(page, tid("password-error"))).includes("You're offline"), "changing the password: offline");
    await page.keyboard.press("Escape");
    await shot(page, "settings-security-offline");
    await fake(() => window.__tallyFake.setConn({ state: "live", latency_ms: 20 }));
    await until(async () => (await page.locator(tid("device")).count()) === 3, "the devices load when back online");
    await page.locator(tid("2fa-status")).waitFor();
    await done();
  });

  test("sign-out deletes this device's data by default; 'Keep offline data' sends wipe: false", async () => {
    const { page, fake, done } = await open();
    // Every toast that appears, kept (a false error after signing out would flash by).
    await page.evaluate(() => {
      const log = (window.__toasts = []);
      new MutationObserver(() => {
        for (const t of document.querySelectorAll('[data-testid="toast"]')) if (!log.includes(t.innerText)) log.push(t.innerText);
      }).observe(document.body, { childList: true, subtree: true, characterData: true });
    });
    const errors = async () => (await page.evaluate(() => window.__toasts)).filter((t) => /couldn.t|signed out/i.test(t) && !/^Signed out/.test(t));
    await page.click(tid("nav-settings"));
    await page.click(tid("sign-out"));
    const keep = page.locator(tid("sign-out-keep"));
    await keep.waitFor();
    ok(!(await keep.isChecked()), "'Keep offline data on this device' is off by default");
    ok((await text(page, tid("sign-out-dialog"))).includes("are deleted from this device"), "says what is deleted");
    await shot(page, "sign-out-dialog");
    await page.click(tid("sign-out-confirm"));
    await page.locator(tid("signin-password")).waitFor();
    // (The toast strip stays collapsed while the cursor is in the password field; the live region says it.)
    await until(async () => (await text(page, tid("live-region"))).includes("removed from this device"), "says the data was removed");
    eq(JSON.stringify(await fake(() => window.__tallyFake.signOuts)), JSON.stringify([{ wipe: true }]), "sign_out {wipe: true}");
    await page.waitForTimeout(300);
    eq(JSON.stringify(await errors()), "[]", "no error toast after signing out");

    // Typed, then clicked with the "Signed out" toast waiting: the strip must not open during the press
    // (it would move the button away and lose the click; see Toasts.svelte).
    await page.fill(tid("signin-username"), "alice");
    await page.fill(tid("signin-password"), "tally-demo");
    await page.click(tid("signin-submit"));
    await page.locator(tid("balance-amount")).waitFor();
    await page.click(tid("nav-settings"));
    await page.click(tid("sign-out"));
    await page.check(tid("sign-out-keep"));
    ok((await text(page, tid("sign-out-dialog"))).includes("stay on this device"), "says what stays");
    await page.click(tid("sign-out-confirm"));
    await page.locator(tid("signin-password")).waitFor();
    eq(JSON.stringify(await fake(() => window.__tallyFake.signOuts)), JSON.stringify([{ wipe: true }, { wipe: false }]), "then sign_out {wipe: false}");
    await done();
  });
}
