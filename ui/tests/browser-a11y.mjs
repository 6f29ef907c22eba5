// Accessibility audit for tests/browser.mjs: axe-core on every view, its main dialogs and the sign-in and
// lock screens, in the light and the dark theme; any WCAG 2.0/2.1 level A or AA violation fails, named
// with the elements it was found on. axe runs in the page through the DevTools protocol (not a <script>,
// so the app's CSP stays as it ships).
// Registered from browser.mjs with its harness (`a11yTests({ test, open, ok, tid })`).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/** The violations on the page as it is now, one line each: rule, impact, where. */
async function audit(page) {
  await page.evaluate(AXE);
  const found = await page.evaluate(async (tags) => {
    // eslint-disable-next-line no-undef -- injected above
    const r = await axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 4).map((n) => n.target.join(" ")).join(" | ")}`);
  }, TAGS);
  return found;
}

export function a11yTests({ test, open, ok, tid }) {
  for (const dark of [false, true]) {
    const theme = dark ? "dark" : "light";

    test(`accessibility (${theme}): every view, the send review and the dialogs pass WCAG 2.1 AA (axe-core)`, async () => {
      const { page, done } = await open({}, { dark });
      const problems = [];
      const check = async (where) => {
        // Animations settle (reduced motion is on) and lazy parts render.
        await page.waitForTimeout(150);
        for (const v of await audit(page)) problems.push(`${where}: ${v}`);
      };
      await page.locator(tid("balance-amount")).waitFor();
      // The OS's scheme is followed (the theme is "system"): one palette per scheme, keyed on data-scheme.
      const scheme = await page.evaluate(() => [document.documentElement.dataset.scheme, getComputedStyle(document.body).backgroundColor]);
      ok(scheme[0] === theme, `data-scheme follows the OS: ${scheme[0]}`);
      ok(dark ? scheme[1] === "rgb(15, 17, 21)" : scheme[1] === "rgb(245, 246, 248)", `the ${theme} palette is on: ${scheme[1]}`);
      await check("home");
      for (const view of ["history", "send", "chat", "notifications", "settings"]) {
        await page.click(tid(`nav-${view}`));
        await page.waitForLoadState("networkidle").catch(() => {});
        await check(view);
      }
      await page.click(tid("nav-chat"));
      await page.locator(tid("room-item")).first().click();
      await page.locator(tid("message-text")).first().waitFor();
      await check("chat room");
      await page.click(tid("nav-send"));
      await page.locator(tid("send-recipient")).first().click();
      await page.fill(tid("send-amount"), "12.34");
      await page.click(tid("send-continue"));
      await page.locator(tid("send-review")).waitFor();
      await check("send review");
      await page.click(tid("nav-home"));
      await page.click(tid("home-pay-link"));
      await page.locator(`${tid("pay-link-dialog")} ${tid("qr-code")} svg`).waitFor();
      await check("my pay link");
      await page.keyboard.press("Escape");
      await page.locator(tid("feed-row")).first().click();
      await page.locator(tid("detail-dialog")).waitFor();
      await check("transaction details");
      ok(problems.length === 0, `WCAG violations:\n  ${problems.join("\n  ")}`);
      await done();
    });

    test(`accessibility (${theme}): the sign-in and lock screens pass WCAG 2.1 AA (axe-core)`, async () => {
      const problems = [];
      {
        const { page, done } = await open({ signedIn: false }, { dark });
        await page.locator(tid("signin-server")).waitFor();
        for (const v of await audit(page)) problems.push(`sign-in: ${v}`);
        await done();
      }
      {
        const { page, done } = await open({ appLock: { pin: "4821" } }, { dark });
        await page.locator(tid("lock-pin")).waitFor();
        for (const v of await audit(page)) problems.push(`lock screen: ${v}`);
        await done();
      }
      ok(problems.length === 0, `WCAG violations:\n  ${problems.join("\n  ")}`);
    });
  }
}
