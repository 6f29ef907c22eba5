// Language tests for tests/browser.mjs: a German system gets German on every view and Settings can
// override it (kept across a restart); the mirrored pseudo-locale (`qps-plocm`: every translated text
// accented and bracketed ⟦…⟧, laid out right to left) finds any text that skipped the translations and
// any layout that does not mirror. Registered from browser.mjs with its harness.
import { overflowProblems } from "./overflow.mjs";

const VIEWS = ["home", "history", "send", "chat", "notifications", "settings"];

/**
 * The page's visible texts that did not come through the translations: text nodes outside ⟦…⟧ with a
 * word in them, leaving out what is data (names, memos, messages, amounts, dates, the hub's own texts:
 * everything inside <bdi>, [dir=auto], money, numbers, code, and the notifications the hub wrote).
 */
function untranslated() {
  const DATA = '[translate="no"], bdi, [dir="auto"], .money, .num, code, kbd, svg, time, .avatar, [data-testid="notification-title"], [data-testid="notification-body"], [data-testid="toast"] .body, .brand-name, h1 .brand, option[lang], .uplot';
  const out = new Set();
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest(DATA)) continue;
    const cs = getComputedStyle(el);
    if (cs.display === "none" || cs.visibility === "hidden") continue;
    // Words left once the translated parts, @usernames, currency codes, times and the product name go.
    const rest = n.textContent
      .replace(/⟦[^⟧]*⟧/g, " ")
      .replace(/@[\w.-]+/g, " ")
      .replace(/\b[A-Z]{3}\b/g, " ")
      .replace(/\b(AM|PM|Tally|Ctrl|Esc|K)\b/g, " ");
    if (/[A-Za-z]{2,}/.test(rest)) out.add(`${el.tagName.toLowerCase()}${el.dataset.testid ? `[${el.dataset.testid}]` : ""}: "${n.textContent.trim().slice(0, 60)}"`);
  }
  for (const el of document.querySelectorAll("[aria-label], [placeholder], [title]")) {
    for (const a of ["aria-label", "placeholder", "title"]) {
      const v = el.getAttribute(a);
      if (!v || el.closest(DATA)) continue;
      const rest = v.replace(/⟦[^⟧]*⟧/g, " ").replace(/@[\w.-]+/g, " ").replace(/\b(Tally|Meta|Control|K)\b/g, " ");
      if (/[A-Za-z]{3,}/.test(rest) && !/^[\w.+-]+$/.test(v.trim())) out.add(`${el.tagName.toLowerCase()} ${a}: "${v.slice(0, 60)}"`);
    }
  }
  return [...out];
}

export function i18nTests({ test, open, ok, eq, tid, shot, until }) {
  test("languages: a German system gets German on every view; Settings → Language overrides it and is kept across a restart", async () => {
    const { page, done } = await open({}, { locale: "de-DE" });
    await page.locator(tid("balance-amount")).waitFor();
    eq(await page.evaluate(() => document.documentElement.lang), "de", "<html lang>");
    await until(async () => (await page.evaluate(() => window.__tallyFake.shellLanguage)) === "de", "the shell (tray) told German");
    eq((await page.locator(tid("nav-settings")).innerText()).trim(), "Einstellungen", "nav label");
    ok((await page.locator("#bal-title").innerText()).includes("Verfügbares Guthaben"), "home heading in German");
    await page.click(tid("nav-send"));
    ok((await page.locator("h1").innerText()).includes("Geld senden"), "send heading in German");
    await page.click(tid("nav-settings"));
    const select = page.locator(`${tid("language-section")} ${tid("language-select")}`);
    ok((await select.locator("option").first().innerText()).includes("System (Deutsch)"), "the system choice names the system's language");
    await select.selectOption("en");
    await until(async () => (await page.locator(tid("nav-settings")).innerText()).trim() === "Settings", "English after the override");
    eq(await page.evaluate(() => document.documentElement.lang), "en", "<html lang> follows");
    await until(async () => (await page.evaluate(() => window.__tallyFake.shellLanguage)) === "en", "the shell told English");
    await shot(page, "language-override-en");
    // A restart (the page loaded afresh on the same profile) keeps the choice.
    await page.reload();
    await page.locator(tid("nav-settings")).waitFor();
    eq((await page.locator(tid("nav-settings")).innerText()).trim(), "Settings", "kept after a restart");
    await done();
  });

  test("money is written one way: the hub's '12.00 USD' shows as $12.00 in Notifications and Home's alerts, and the engine is told the format for native notifications", async () => {
    const { page, done } = await open({});
    await page.locator(tid("home-alert")).first().waitFor();
    const alerts = await page.locator(tid("home-alert")).allInnerTexts();
    ok(alerts.some((a) => a.includes("You have $120.00 left to send today.")), `Home's limit alert in the app's format: ${alerts.join(" | ")}`);
    await page.click(tid("nav-notifications"));
    await page.locator(tid("notification")).first().waitFor();
    const list = (await page.locator(tid("notification")).allInnerTexts()).join("\n");
    for (const want of ["Bob paid you $12.00", "$8.50 sent to Carol Chen", "You have $120.00 left to send today.", "Deposit of $2,400.00"]) {
      ok(list.includes(want), `"${want}" in Notifications`);
    }
    ok(!/\d USD\b/.test(list), `no amount in the hub's "12.00 USD" form: ${list.match(/.{0,20}\d USD.{0,10}/)?.[0]}`);
    const style = await page.evaluate(() => window.__tallyFake.moneyStyle);
    eq(style?.currencies?.USD?.prefix, "$", "the engine knows how the UI writes dollars");
    await done();
  });

  test("languages: the sign-in screen has the language picker and signs in in German", async () => {
    const { page, done } = await open({ signedIn: false }, { locale: "en-US" });
    await page.locator(tid("signin-server")).waitFor();
    await page.selectOption(tid("language-select"), "de");
    await until(async () => (await page.locator(tid("signin-submit")).innerText()).trim() === "Anmelden", "sign-in button in German");
    await page.click(tid("signin-submit"));
    ok((await page.locator(tid("signin-error")).innerText()).startsWith("Gib"), "the form's own check speaks German");
    await done();
  });

  test("languages: German's longer words fit: no view sticks out at 360 px or 1100 px", async () => {
    const problems = [];
    for (const viewport of [{ width: 360, height: 740 }, { width: 1100, height: 760 }]) {
      const { page, done } = await open({}, { locale: "de-DE", viewport });
      await page.locator(tid("balance-amount")).waitFor();
      for (const view of VIEWS) {
        await page.click(tid(`nav-${view}`));
        await page.waitForLoadState("networkidle").catch(() => {});
        await page.waitForTimeout(150);
        for (const o of await page.evaluate(overflowProblems)) problems.push(`${viewport.width} px, ${view}: ${o}`);
        if (viewport.width === 360) await shot(page, `de-360-${view}`);
      }
      await done();
    }
    ok(problems.length === 0, `German layout:\n  ${problems.join("\n  ")}`);
  });

  for (const width of [1280, 390]) {
    test(`languages: right to left at ${width} px: nothing on any view skips the translations, the layout mirrors and nothing sticks out`, async () => {
      const { page, done } = await open({}, { language: "qps-plocm", viewport: { width, height: width > 500 ? 820 : 844 } });
      await page.locator(tid("balance-amount")).waitFor();
      eq(await page.evaluate(() => document.documentElement.dir), "rtl", "<html dir>");
      const problems = [];
      const check = async (where) => {
        await page.waitForTimeout(150);
        for (const u of await page.evaluate(untranslated)) problems.push(`${where}: not translated: ${u}`);
        for (const o of await page.evaluate(overflowProblems)) problems.push(`${where}: ${o}`);
      };
      for (const view of VIEWS) {
        await page.click(tid(`nav-${view}`));
        await page.waitForLoadState("networkidle").catch(() => {});
        await check(view);
        if (width > 500 && view === "home") {
          // Mirrored: the navigation rail is on the right, the balance's text starts at the right.
          const rail = await page.locator("nav.rail").boundingBox();
          ok(rail && rail.x > width / 2, `the navigation rail is on the right in RTL (x = ${rail?.x})`);
        }
        await shot(page, `rtl-${width}-${view}`);
      }
      await page.click(tid("nav-history"));
      await page.click(tid("filters-toggle"));
      await check("history filters");
      await page.click(tid("nav-chat"));
      await page.locator(tid("room-item")).first().click();
      await page.locator(tid("message-text")).first().waitFor();
      await check("chat room");
      await shot(page, `rtl-${width}-chat-room`);
      await page.click(tid("nav-send"));
      await page.locator(tid("send-recipient")).first().click();
      await page.fill(tid("send-amount"), "12.34");
      await page.click(tid("send-continue"));
      await page.locator(tid("send-review")).waitFor();
      await check("send review");
      // The dialogs: my pay link, a transaction's details, sign out, change password, a new conversation.
      const dialog = async (where, openIt, testid) => {
        await openIt();
        await page.locator(tid(testid)).waitFor();
        await check(where);
        await page.keyboard.press("Escape");
        await page.locator(tid(testid)).waitFor({ state: "detached" });
      };
      await page.click(tid("nav-home"));
      await dialog("pay link", () => page.click(tid("home-pay-link")), "pay-link-dialog");
      await dialog("details", () => page.locator(tid("feed-row")).first().click(), "detail-dialog");
      await page.click(tid("nav-settings"));
      await dialog("sign out", () => page.click(tid("sign-out")), "sign-out-dialog");
      await dialog("change password", () => page.click(tid("password-change")), "password-dialog");
      await page.click(tid("nav-chat"));
      await dialog("new conversation", () => page.click(tid("chat-new")), "new-chat-dialog");
      ok(problems.length === 0, `right to left:\n  ${problems.join("\n  ")}`);
      await done();
    });
  }

  test("languages: right to left, the sign-in, sign-up and lock screens skip no translation", async () => {
    const problems = [];
    const check = async (page, where) => {
      await page.waitForTimeout(150);
      for (const u of await page.evaluate(untranslated)) problems.push(`${where}: not translated: ${u}`);
      for (const o of await page.evaluate(overflowProblems)) problems.push(`${where}: ${o}`);
    };
    {
      const { page, done } = await open({ signedIn: false }, { language: "qps-plocm" });
      await page.locator(tid("signin-server")).waitFor();
      await check(page, "sign-in");
      await page.click(tid("signin-submit"));
      await check(page, "sign-in error");
      await page.click(tid("signup-open"));
      await page.locator(tid("signup-username")).waitFor();
      await page.click(tid("signup-submit"));
      await check(page, "sign-up");
      await shot(page, "rtl-sign-up");
      await done();
    }
    {
      const { page, done } = await open({ appLock: { pin: "4821" } }, { language: "qps-plocm" });
      await page.locator(tid("lock-pin")).waitFor();
      await page.fill(tid("lock-pin"), "1111");
      await page.click(tid("lock-unlock"));
      await page.locator(tid("lock-error")).waitFor();
      await check(page, "lock screen");
      await done();
    }
    ok(problems.length === 0, `right to left:\n  ${problems.join("\n  ")}`);
  });
}
