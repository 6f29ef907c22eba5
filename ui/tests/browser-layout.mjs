// Layout tests for tests/browser.mjs: no view scrolls sideways at phone widths, the bottom bar's touch
// targets are big enough, toasts never cover a control, and History leaves the table room.
import { overflowProblems } from "./overflow.mjs";

export { overflowProblems };

// Registered from browser.mjs with its harness (`layoutTests({ test, open, ok, eq, tid, shot, until })`).

/**
 * Every visible control a toast overlaps. A control's visible part is its box clipped by the viewport and
 * by every scrolling or clipping ancestor (a row scrolled out of view is not covered by anything).
 */
function toastOverlaps() {
  const clipped = (el) => {
    let r = el.getBoundingClientRect();
    let box = { l: r.left, t: r.top, r: r.right, b: r.bottom };
    const cut = (o) => (box = { l: Math.max(box.l, o.left), t: Math.max(box.t, o.top), r: Math.min(box.r, o.right), b: Math.min(box.b, o.bottom) });
    cut({ left: 0, top: 0, right: innerWidth, bottom: innerHeight });
    for (let a = el.parentElement; a; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (cs.overflowX !== "visible" || cs.overflowY !== "visible") cut(a.getBoundingClientRect());
    }
    return box.r - box.l > 0.5 && box.b - box.t > 0.5 ? box : null;
  };
  const shown = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === "none" || cs.visibility === "hidden" || Number(cs.opacity) === 0) return false;
      if (e.classList.contains("visually-hidden")) return false;
    }
    return true;
  };
  const toasts = [...document.querySelectorAll('[data-testid="toast"]')].map((t) => ({ t, r: t.getBoundingClientRect() }));
  const out = [];
  const controls = document.querySelectorAll('button, input, select, textarea, a[href], summary, [role="button"], [role="link"], [role="combobox"], [tabindex]:not([tabindex="-1"])');
  for (const c of controls) {
    if (c.closest('[data-testid="toast"]') || !shown(c)) continue;
    const box = clipped(c);
    if (!box) continue;
    for (const { t, r } of toasts) {
      const w = Math.min(box.r, r.right) - Math.max(box.l, r.left);
      const h = Math.min(box.b, r.bottom) - Math.max(box.t, r.top);
      if (w > 0.5 && h > 0.5) {
        const label = (c.getAttribute("aria-label") || c.getAttribute("data-testid") || c.textContent || c.getAttribute("placeholder") || "").trim().slice(0, 40);
        out.push(`toast "${t.querySelector("strong")?.textContent}" covers <${c.tagName.toLowerCase()}> "${label}" (${Math.round(w)}×${Math.round(h)} px)`);
      }
    }
  }
  return { count: toasts.length, overlaps: out };
}

/** Records every toast that appears (by id, with its text and icon) into window.__toastLog. */
function logToasts() {
  const log = (window.__toastLog = []);
  const seen = new Set();
  const scan = () => {
    for (const t of document.querySelectorAll('[data-testid="toast"]')) {
      const id = t.getAttribute("data-toast-id");
      if (seen.has(id)) continue;
      seen.add(id);
      log.push({ id, text: t.innerText.replace(/\s+/g, " ").trim(), icon: t.getAttribute("data-icon") });
    }
  };
  new MutationObserver(scan).observe(document.body, { childList: true, subtree: true });
  scan();
}

export function layoutTests({ test, open, ok, eq, tid, shot, until }) {
  const PHONES = [
    { width: 360, height: 740 },
    { width: 390, height: 844 },
  ];

  for (const vp of PHONES) {
    test(`phone layout ${vp.width}×${vp.height}: no view scrolls sideways, bottom bar targets ≥ 44 px`, async () => {
      const { page, done } = await open({}, { viewport: vp });
      const problems = [];
      const check = async (label) => {
        await page.waitForTimeout(150); // let transitions and late layout settle
        const found = await page.evaluate(overflowProblems);
        await shot(page, `layout-${vp.width}-${label}`);
        for (const f of found) problems.push(`${label}: ${f}`);
      };

      await page.locator(tid("balance-amount")).waitFor();
      // The bottom bar: every tab at least 44×44.
      for (const v of ["home", "history", "send", "chat", "notifications", "settings"]) {
        const b = await page.locator(tid(`nav-${v}`)).boundingBox();
        ok(b && b.width >= 44 && b.height >= 44, `the ${v} tab is a 44 px touch target (${b && `${Math.round(b.width)}×${Math.round(b.height)}`})`);
        ok(b && b.y + b.height <= vp.height + 0.5 && b.y > vp.height / 2, `the ${v} tab is in the bottom bar`);
      }
      await check("home");

      await page.click(tid("nav-history"));
      await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 3, "history rows");
      await check("history");

      await page.click(tid("nav-send"));
      await page.locator(tid("send-recipient-search")).waitFor();
      await check("send-to");
      await page.click(`${tid("send-recipient")}[data-username="bob"]`);
      await page.locator(tid("send-amount")).waitFor();
      await page.fill(tid("send-amount"), "12.34");
      await page.fill(tid("send-memo"), "Pizza");
      await check("send-amount");
      await page.click(tid("send-continue"));
      await page.locator(tid("send-review")).waitFor();
      await check("send-review");
      await page.click(tid("send-confirm"));
      await until(async () => (await page.locator(tid("send-result")).getAttribute("data-phase")) === "completed", "transfer completes");
      await check("send-result");

      await page.click(tid("nav-chat"));
      await page.locator(tid("room-item")).first().waitFor();
      await check("chat-list");
      await page.locator(tid("room-item")).first().click();
      await page.locator(tid("chat-input")).waitFor();
      await check("chat-room");

      await page.click(tid("nav-notifications"));
      await page.locator(tid("notification")).first().waitFor();
      await check("notifications");

      await page.click(tid("nav-settings"));
      await page.locator(tid("presence-select")).waitFor();
      await check("settings");
      await done();

      const signin = await open({ signedIn: false }, { viewport: vp });
      await signin.page.locator(tid("signin-username")).waitFor();
      await signin.page.waitForTimeout(150);
      for (const f of await signin.page.evaluate(overflowProblems)) problems.push(`sign-in: ${f}`);
      await shot(signin.page, `layout-${vp.width}-signin`);
      await signin.done();

      ok(problems.length === 0, `horizontal overflow at ${vp.width} px:\n      ${problems.join("\n      ")}`);
    });
  }

  test("phone layout 360×740: sign-up, the two-factor step, Security and its set-up dialog do not scroll sideways", async () => {
    const vp = { width: 360, height: 740 };
    const problems = [];
    const check = async (page, label) => {
      await page.waitForTimeout(150);
      for (const f of await page.evaluate(overflowProblems)) problems.push(`${label}: ${f}`);
      await shot(page, `layout-360-${label}`);
    };

    const a = await open({ signedIn: false, twoFactor: ["bob"], servers: { "http://127.0.0.1:8787": { registration: "invite", require_two_factor: true } } }, { viewport: vp });
    await a.page.locator(tid("signin-username")).waitFor();
    await a.page.click(tid("signup-open"));
    await a.page.locator(tid("signup-invite")).waitFor();
    await a.page.fill(tid("signup-password"), "password1234");
    await a.page.locator(`${tid("password-meter")}[data-score]:not([data-score=""])`).waitFor({ timeout: 15_000 });
    await check(a.page, "signup");
    await a.page.click(tid("signup-back"));
    await a.page.fill(tid("signin-username"), "bob");
    await a.page.fill(tid("signin-password"), "tally-demo");
    await a.page.click(tid("signin-submit"));
    await a.page.locator(tid("signin-code")).waitFor();
    await check(a.page, "signin-code");
    await a.page.fill(tid("signin-code"), "123456");
    await a.page.click(tid("signin-code-submit"));
    await a.page.locator(tid("balance-amount")).waitFor();
    await a.page.click(tid("nav-settings"));
    await a.page.locator(tid("device")).first().waitFor();
    await a.page.locator(tid("security-section")).scrollIntoViewIfNeeded();
    await check(a.page, "settings-security");
    await a.done();

    const b = await open({ mustEnrol: true }, { viewport: vp });
    await b.page.locator(tid("enrol-banner")).waitFor();
    await check(b.page, "enrol-banner");
    await b.page.click(tid("enrol-banner-go"));
    await b.page.locator(tid("2fa-password")).waitFor();
    await check(b.page, "2fa-password");
    await b.page.fill(tid("2fa-password"), "tally-demo");
    await b.page.click(tid("2fa-password-continue"));
    await b.page.locator(`${tid("2fa-dialog")} ${tid("qr-code")} svg`).waitFor();
    await check(b.page, "2fa-scan");
    await b.page.fill(tid("2fa-code"), "123456");
    await b.page.click(tid("2fa-enable"));
    await b.page.locator(tid("2fa-recovery-codes")).waitFor();
    await check(b.page, "2fa-codes");
    for (const id of ["2fa-copy-codes", "2fa-download-codes", "2fa-done"]) {
      const box = await b.page.locator(tid(id)).boundingBox();
      ok(box && box.x >= 0 && box.x + box.width <= vp.width, `${id} is on screen`);
    }
    await b.done();

    ok(problems.length === 0, `horizontal overflow at 360 px:\n      ${problems.join("\n      ")}`);
  });

  // ---------- toasts ----------

  for (const vp of [
    { width: 1100, height: 760 },
    { width: 390, height: 844 },
  ]) {
    test(`toasts never cover a control at ${vp.width}×${vp.height}`, async () => {
      const { page, fake, done } = await open({}, { viewport: vp });
      await page.locator(tid("balance-amount")).waitFor();
      const problems = [];
      let seen = 0;
      let n = 0;
      // Several toasts at once, from the engine and from actions, then measure.
      const burst = async (label) => {
        n++;
        await fake((i) => {
          window.__tallyFake.incomingPayment("bob", 1000 + i, `Lunch ${i}`);
          window.__tallyFake.broadcast(`Maintenance ${i}`, "The server restarts at 02:00 UTC.", "critical");
        }, n);
        await until(async () => (await page.locator(tid("toast")).count()) > 0, `${label}: a toast shows`);
        await page.waitForTimeout(250);
        const r = await page.evaluate(toastOverlaps);
        seen += r.count;
        for (const o of r.overlaps) problems.push(`${label}: ${o}`);
        await shot(page, `toasts-${vp.width}-${label}`);
      };
      await burst("home");

      await page.click(tid("nav-history"));
      await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 3, "history rows");
      await page.click(tid("filters-toggle"));
      await page.locator(tid("filter-bar")).waitFor();
      await burst("history-filters");
      // A toast with an action (the export's "Show in folder").
      await page.click(tid("export-csv"));
      await page.locator(tid("toast"), { hasText: "History exported" }).waitFor();
      for (const o of (await page.evaluate(toastOverlaps)).overlaps) problems.push(`export: ${o}`);
      await shot(page, `toasts-${vp.width}-export`);

      await page.click(tid("nav-notifications"));
      await page.locator(tid("mark-all-read")).waitFor();
      await burst("notifications");
      await page.click(tid("mark-all-read"));
      await page.locator(tid("toast"), { hasText: "All caught up" }).waitFor();
      const r = await page.evaluate(toastOverlaps);
      for (const o of r.overlaps) problems.push(`mark all read: ${o}`);

      await page.click(tid("nav-chat"));
      await page.locator(tid("room-item")).first().click();
      await page.locator(tid("chat-input")).waitFor();
      await page.locator(tid("chat-input")).blur();
      await burst("chat-room");

      await page.click(tid("nav-send"));
      await page.click(`${tid("send-recipient")}[data-username="carol"]`);
      await page.locator(tid("send-amount")).waitFor();
      await page.locator(tid("send-amount")).blur();
      await burst("send-amount");

      await page.click(tid("nav-settings"));
      await page.locator(tid("presence-select")).waitFor();
      await burst("settings");

      ok(seen >= 6, `toasts were shown and measured (${seen})`);
      ok(problems.length === 0, `toasts cover controls:\n      ${problems.join("\n      ")}`);
      await done();
    });
  }

  test("toasts: one per event, the app's money format, the direction's arrow", async () => {
    const { page, fake, done } = await open({}, { viewport: { width: 1100, height: 760 } });
    await page.locator(tid("balance-amount")).waitFor();
    await page.evaluate(logToasts);
    const log = () => page.evaluate(() => window.__toastLog);

    // A payment sent from Send: "Payment sent", and the hub's "12.34 USD sent to Bob Brown" echo is not a second toast.
    await page.click(tid("nav-send"));
    await page.click(`${tid("send-recipient")}[data-username="bob"]`);
    await page.fill(tid("send-amount"), "12.34");
    await page.fill(tid("send-memo"), "Pizza night");
    await page.click(tid("send-continue"));
    await page.click(tid("send-confirm"));
    await until(async () => (await page.locator(tid("send-result")).getAttribute("data-phase")) === "completed", "transfer completes");
    await page.waitForTimeout(600);
    const sent = (await log()).filter((t) => t.text.includes("12.34"));
    eq(sent.length, 1, `one toast for the sent payment (${JSON.stringify(sent)})`);
    ok(sent[0].text.includes("$12.34") && !/USD/.test(sent[0].text), `money as "$12.34": ${sent[0].text}`);

    // Money the user sent elsewhere (the hub's text): "$3.00 sent to Carol Chen" with the outgoing arrow.
    await fake(() => window.__tallyFake.toast("transfer", "3.00 USD sent to Carol Chen", "Sent from my phone"));
    const out = page.locator(tid("toast"), { hasText: "sent to Carol Chen" });
    await out.waitFor();
    eq((await out.innerText()).split("\n")[0], "$3.00 sent to Carol Chen", "the app's money format");
    eq(await out.getAttribute("data-icon"), "out", "outgoing arrow");

    // Money in: the incoming arrow and "$12.50".
    await fake(() => window.__tallyFake.incomingPayment("dave", 1250, "Cinema"));
    const inc = page.locator(tid("toast"), { hasText: "Dave Diaz paid you" });
    await inc.waitFor();
    eq((await inc.innerText()).split("\n")[0], "Dave Diaz paid you $12.50", "incoming in the app's money format");
    eq(await inc.getAttribute("data-icon"), "in", "incoming arrow");
    await until(async () => (await page.locator(tid("live-region")).innerText()).includes("Dave Diaz paid you $12.50"), "the live region says it the same way");

    // A critical broadcast that reaches the app twice is one toast.
    await fake(() => {
      window.__tallyFake.broadcast("Maintenance tonight", "Tally restarts at 02:00 UTC; payments queue meanwhile.", "critical");
      window.__tallyFake.toast("system", "Maintenance tonight", "Tally restarts at 02:00 UTC; payments queue meanwhile.");
    });
    await page.locator(tid("toast"), { hasText: "Maintenance tonight" }).waitFor();
    await page.waitForTimeout(300);
    eq((await log()).filter((t) => t.text.includes("Maintenance tonight")).length, 1, "one toast for the broadcast");
    ok((await log()).every((t) => !/\d USD\b/.test(t.text)), `no "12.34 USD" anywhere: ${JSON.stringify((await log()).map((t) => t.text))}`);
    await shot(page, "toasts-header-lane");
    await done();
  });

  test("toasts at phone width: a strip above the tab bar that stays collapsed while typing", async () => {
    const { page, fake, done } = await open({}, { viewport: { width: 390, height: 844 } });
    await page.locator(tid("balance-amount")).waitFor();
    await page.click(tid("nav-chat"));
    await page.locator(tid("room-item")).first().click();
    const input = page.locator(tid("chat-input"));
    await input.click();
    await page.keyboard.type("On my way");
    const before = await input.boundingBox();
    await fake(() => window.__tallyFake.incomingPayment("bob", 700, "Coffee"));
    await until(async () => (await page.locator(tid("live-region")).innerText()).includes("Bob Brown paid you $7.00"), "announced");
    await page.waitForTimeout(200);
    eq(await page.locator(tid("toast")).count(), 0, "no toast while typing");
    const after = await input.boundingBox();
    eq(after?.y, before?.y, "the composer did not move");
    await input.blur();
    const t = page.locator(tid("toast"), { hasText: "Bob Brown paid you $7.00" });
    await t.waitFor();
    const box = await t.boundingBox();
    const nav = await page.locator(tid("nav-home")).boundingBox();
    const comp = await input.boundingBox();
    ok(box && nav && box.y + box.height <= nav.y, "the toast sits above the tab bar");
    ok(box && comp && comp.y + comp.height <= box.y, "and below the composer, which made room");
    await shot(page, "toasts-phone-strip");
    await done();
  });

  // ---------- History: the table gets the room ----------

  /** Rows wholly inside the table's scrolling area (below its sticky headers), and what else was measured. */
  const tableRoom = (page) =>
    page.evaluate(() => {
      const table = document.querySelector('[data-testid="history-table"]');
      const t = table.getBoundingClientRect();
      const heads = [...table.querySelectorAll(".colhead, .monthhead")].reduce((h, e) => h + e.getBoundingClientRect().height, 0);
      const top = t.top + heads;
      const rows = [...table.querySelectorAll('[data-testid="history-row"]')].filter((r) => {
        const b = r.getBoundingClientRect();
        return b.top >= top - 0.5 && b.bottom <= t.bottom + 0.5;
      });
      const main = document.querySelector("main.content");
      const cell = (sel) => table.querySelector(`.colhead ${sel}`)?.getBoundingClientRect().width ?? 0;
      const cut = [...table.querySelectorAll(".row.filled .c-memo")].filter((m) => m.offsetParent && m.scrollWidth > m.clientWidth + 1).map((m) => m.textContent);
      return {
        rows: rows.length,
        pageScrolls: main.scrollHeight > main.clientHeight + 1,
        memo: cell(".c-memo"),
        type: cell(".c-type"),
        who: cell(".c-who"),
        cutMemos: cut,
      };
    });

  test("history at 1100×760: charts collapse (remembered), the table fills the window, columns fit their content", async () => {
    const { page, done } = await open({}, { viewport: { width: 1100, height: 760 } });
    await page.click(tid("nav-history"));
    await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 8, "rows rendered");
    await page.locator(tid("history-charts")).waitFor();
    eq(await page.locator(tid("charts-toggle")).getAttribute("aria-expanded"), "true", "charts shown by default on a desktop");
    const withCharts = await tableRoom(page);

    await page.click(tid("charts-toggle"));
    await until(async () => (await page.locator(tid("history-charts")).count()) === 0, "charts collapse");
    eq(await page.locator(tid("charts-toggle")).getAttribute("aria-expanded"), "false", "aria-expanded follows");
    await page.waitForTimeout(150);
    const room = await tableRoom(page);
    await shot(page, "history-1100-collapsed");
    ok(room.rows >= 12, `at least 12 whole rows with the charts collapsed (${room.rows}; ${withCharts.rows} with them)`);
    ok(!room.pageScrolls, "the table fills the window: the page itself does not scroll");
    ok(room.memo > room.type && room.memo > room.who, `the memo gets the spare width (memo ${room.memo}, counterparty ${room.who}, type ${room.type} px)`);
    ok(room.type <= 150, `Type is narrow (${room.type} px)`);
    eq(room.cutMemos.length, 0, `no memo is cut at 1100 px (${room.cutMemos.slice(0, 3).join(", ")})`);
    console.log(`    (1100×760: ${withCharts.rows} whole rows with charts, ${room.rows} without)`);

    // Remembered on this device.
    await page.reload();
    await page.click(tid("nav-history"));
    await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 8, "rows after reload");
    eq(await page.locator(tid("history-charts")).count(), 0, "still collapsed after a restart");
    await page.click(tid("charts-toggle"));
    await page.locator(`${tid("balance-chart")} canvas`).waitFor();
    await page.reload();
    await page.click(tid("nav-history"));
    await page.locator(`${tid("balance-chart")} canvas`).waitFor();
    await done();
  });

  test("history at 1100×760 with Filters and Charts open: the table keeps 8 whole rows (the page scrolls to it); at 760 px the memo gets the room", async () => {
    const { page, done } = await open({}, { viewport: { width: 1100, height: 760 } });
    await page.click(tid("nav-history"));
    await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 8, "rows rendered");
    await page.locator(tid("history-charts")).waitFor();
    await page.click(tid("filters-toggle"));
    await page.locator(tid("filter-bar")).waitFor();
    // Scrolled as a person would to see the list: the table's top at the top of the content.
    await page.evaluate(() => document.querySelector('[data-testid="history-table"]').closest("section").scrollIntoView({ block: "start" }));
    await page.waitForTimeout(150);
    const open2 = await tableRoom(page);
    const fits = await page.evaluate(() => {
      const main = document.querySelector("main.content").getBoundingClientRect();
      const t = document.querySelector('[data-testid="history-table"]').closest("section").getBoundingClientRect();
      return t.height <= main.height + 0.5;
    });
    await shot(page, "history-1100-filters-charts");
    ok(open2.rows >= 8, `at least 8 whole rows with Filters and Charts open (${open2.rows})`);
    ok(fits, "the table fits the window once scrolled to");
    console.log(`    (1100×760, Filters and Charts open: ${open2.rows} whole rows)`);

    await page.setViewportSize({ width: 760, height: 760 });
    await page.click(tid("filters-toggle"));
    await page.waitForTimeout(200);
    const narrow = await tableRoom(page);
    await shot(page, "history-760");
    ok(narrow.memo >= narrow.type, `at 760 px the memo is not narrower than Type (memo ${narrow.memo}, type ${narrow.type}, counterparty ${narrow.who} px)`);
    ok(narrow.memo >= 120, `at 760 px the memo has room for a short note (${narrow.memo} px)`);
    console.log(`    (760 px: memo ${narrow.memo}, type ${narrow.type}, counterparty ${narrow.who} px; cut: ${narrow.cutMemos.length})`);
    await done();
  });

  test("history at 390×844: charts collapsed by default, at least 8 rows", async () => {
    const { page, done } = await open({}, { viewport: { width: 390, height: 844 } });
    await page.click(tid("nav-history"));
    await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 5, "rows rendered");
    eq(await page.locator(tid("history-charts")).count(), 0, "no charts on a phone by default");
    eq(await page.locator(tid("charts-toggle")).getAttribute("aria-expanded"), "false", "the toggle says so");
    for (const id of ["filters-toggle", "charts-toggle", "export-csv"]) {
      const b = await page.locator(tid(id)).boundingBox();
      ok(b && b.width >= 44 && b.height >= 44, `${id} is a 44 px touch target`);
    }
    const room = await tableRoom(page);
    await shot(page, "history-390");
    ok(room.rows >= 8, `at least 8 whole rows on a phone (${room.rows})`);
    ok(!room.pageScrolls, "the page itself does not scroll");
    console.log(`    (390×844: ${room.rows} whole rows)`);
    await page.click(tid("charts-toggle"));
    await page.locator(`${tid("balance-chart")} canvas`).waitFor();
    await shot(page, "history-390-charts");
    await done();
  });
}
