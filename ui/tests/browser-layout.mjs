// Layout tests for tests/browser.mjs: no view scrolls sideways at phone widths, the bottom bar's touch
// targets are big enough, toasts never cover a control, and History leaves the table room.
// Registered from browser.mjs with its harness (`layoutTests({ test, open, ok, eq, tid, shot, until, text })`).

/**
 * Everything that sticks out sideways, measured in the page: the document scrolling horizontally, any
 * rendered element whose right edge passes the viewport (or left edge before it), and any scroll container
 * that scrolls horizontally. Visually-hidden helpers (1 px clipped) are skipped. Outermost offenders only.
 */
function overflowProblems() {
  const vw = document.documentElement.clientWidth;
  const se = document.scrollingElement;
  const out = [];
  if (se && se.scrollWidth > se.clientWidth) out.push(`the document scrolls sideways (scrollWidth ${se.scrollWidth} > clientWidth ${se.clientWidth})`);
  const name = (el) => {
    const id = el.getAttribute("data-testid");
    const cls = typeof el.className === "string" && el.className ? `.${el.className.trim().split(/\s+/).filter((c) => !c.startsWith("svelte-")).join(".")}` : "";
    return `${el.tagName.toLowerCase()}${id ? `[data-testid="${id}"]` : ""}${cls}`;
  };
  const path = (el) => {
    const parts = [];
    for (let e = el; e && e !== document.body && parts.length < 4; e = e.parentElement) parts.unshift(name(e));
    return parts.join(" > ");
  };
  const hidden = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const cs = getComputedStyle(e);
      if (cs.display === "none" || cs.visibility === "hidden") return true;
      if (e.classList.contains("visually-hidden")) return true;
    }
    return false;
  };
  const reported = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (reported.some((r) => r.contains(el))) continue;
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) continue;
    const cs = getComputedStyle(el);
    const scrollsX = (cs.overflowX === "auto" || cs.overflowX === "scroll") && el.scrollWidth > el.clientWidth + 1;
    const sticksOut = r.right > vw + 0.5 || r.left < -0.5;
    if (!scrollsX && !sticksOut) continue;
    if (hidden(el)) continue;
    reported.push(el);
    if (!scrollsX) {
      out.push(`${path(el)} spans ${Math.round(r.left)}–${Math.round(r.right)} px of a ${vw} px viewport (width ${Math.round(r.width)})`);
      continue;
    }
    // A sideways scroller: name what inside it is too wide (the outermost such element).
    const edge = r.left + el.clientLeft + el.clientWidth;
    let culprit = null;
    for (const d of el.querySelectorAll("*")) {
      const dr = d.getBoundingClientRect();
      if (dr.width > 0 && dr.right > edge + 0.5 && !hidden(d)) {
        culprit = d;
        break;
      }
    }
    const cr = culprit?.getBoundingClientRect();
    out.push(
      `${path(el)} scrolls sideways (scrollWidth ${el.scrollWidth} > clientWidth ${el.clientWidth})` +
        (culprit ? `: ${path(culprit)} is ${Math.round(cr.width)} px wide, ending at ${Math.round(cr.right)} px` : ""),
    );
  }
  return out;
}

export function layoutTests({ test, open, ok, eq, tid, shot, until, text }) {
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
}

export function debugTests({ test, open, tid }) {
  test("zz-debug", async () => {
    const { page, done } = await open({}, { viewport: { width: 390, height: 844 } });
    await page.click(tid("nav-send"));
    await page.click(`${tid("send-recipient")}[data-username="bob"]`);
    await page.locator(tid("send-amount")).waitFor();
    if (process.env.CSS) await page.addStyleTag({ content: process.env.CSS });
    await page.waitForTimeout(100);
    const r = await page.evaluate(() => {
      const out = [];
      for (const el of document.querySelectorAll("main *")) {
        const b = el.getBoundingClientRect();
        if (b.width > 380) out.push(`${el.tagName}.${el.className} ${Math.round(b.left)} ${Math.round(b.width)}`);
      }
      const se = document.scrollingElement;
      out.push(`doc ${se.scrollWidth}; body ${document.body.scrollWidth}; shell ${document.querySelector(".shell").getBoundingClientRect().width}`);
      for (const el of document.querySelectorAll("body *")) {
        const b = el.getBoundingClientRect();
        if (b.right > 395) out.push(`R ${el.tagName}.${el.className} ${Math.round(b.left)} ${Math.round(b.right)}`);
      }
      return out;
    });
    console.log(r.join("\n"));
    await done();
  });
}
