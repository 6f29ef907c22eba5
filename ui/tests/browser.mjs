#!/usr/bin/env node
// Browser tests: the built UI (ui/dist) in headless Chromium, served from 127.0.0.1 with the app's CSP,
// with Tauri's IPC replaced by an in-memory fake (tests/fake/*, injected as an init script).
// Usage: node tests/browser.mjs [name-filter]. Prints "N passed, N failed"; exits non-zero on failure.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { a11yTests } from "./browser-a11y.mjs";
import { i18nTests } from "./browser-i18n.mjs";
import { accountTests } from "./browser-account.mjs";
import { layoutTests } from "./browser-layout.mjs";
import { lockTests } from "./browser-lock.mjs";
import { conversationMoneyTests, requestTests, splitTests } from "./browser-requests.mjs";
import { fileTests } from "./browser-files.mjs";

const UI = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIST = join(UI, "dist");
const OUT = join(UI, "test-results");
const FAKE = join(OUT, ".fake", "fake-ipc.js");
const CHROMIUM = process.env.CHROMIUM_PATH || "/usr/bin/chromium";
const only = process.argv[2] ?? "";

// ---------- build if needed ----------

function newest(dir) {
  let t = 0;
  if (!existsSync(dir)) return t;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

function run(args) {
  const r = spawnSync(process.execPath, [join(UI, "node_modules", "vite", "bin", "vite.js"), ...args], { cwd: UI, stdio: "inherit" });
  if (r.status !== 0) {
    console.error(`vite ${args.join(" ")} failed`);
    process.exit(1);
  }
}

const srcTime = Math.max(newest(join(UI, "src")), statSync(join(UI, "index.html")).mtimeMs, statSync(join(UI, "vite.config.ts")).mtimeMs);
if (!existsSync(join(DIST, "index.html")) || statSync(join(DIST, "index.html")).mtimeMs < srcTime) {
  console.log("building ui/dist …");
  run(["build", "--logLevel", "warn"]);
}
const fakeTime = Math.max(newest(join(UI, "tests", "fake")), newest(join(UI, "src", "bindings")));
if (!existsSync(FAKE) || statSync(FAKE).mtimeMs < fakeTime) run(["build", "-c", "vite.fake.config.ts"]);
mkdirSync(OUT, { recursive: true });

// ---------- static server with the app's CSP ----------

function appCsp() {
  try {
    const conf = JSON.parse(readFileSync(join(UI, "..", "tauri.conf.json"), "utf8"));
    const csp = conf?.app?.security?.csp;
    if (typeof csp === "string") return csp;
  } catch {
    /* fall through */
  }
  return "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; object-src 'none'";
}
const CSP = appCsp();
const TYPES = { ".html": "text/html", ".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml", ".ico": "image/x-icon", ".json": "application/json" };

const server = createServer((req, res) => {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  let p = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, "");
  if (p === "/" || p === "") p = "/index.html";
  const file = join(DIST, p);
  if (!file.startsWith(DIST) || !existsSync(file) || statSync(file).isDirectory()) {
    res.writeHead(404).end("not found");
    return;
  }
  res.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "content-security-policy": CSP, "cache-control": "no-store" });
  res.end(readFileSync(file));
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const BASE = `http://127.0.0.1:${server.address().port}/`;

// ---------- harness ----------

if (!existsSync(CHROMIUM)) {
  console.error(`Chromium not found at ${CHROMIUM} (set CHROMIUM_PATH)`);
  process.exit(1);
}
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

class Assert extends Error {}
function ok(cond, msg) {
  if (!cond) throw new Assert(msg);
}
function eq(a, b, msg) {
  if (a !== b) throw new Assert(`${msg}: expected ${JSON.stringify(b)}, got ${JSON.stringify(a)}`);
}

/** Pages a test opened and has not closed: on a failure each is screenshot, then closed. */
const live = new Set();

/** A fresh page with the fake installed. */
async function open(cfg = {}, opts = {}) {
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 820 },
    locale: opts.locale ?? "en-US",
    timezoneId: "UTC",
    colorScheme: opts.dark ? "dark" : "light",
    reducedMotion: "reduce",
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const entry = { page, context };
  live.add(entry);
  const problems = [];
  const dialogs = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console.error: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.addInitScript({
    // Tauri runs the app with freezePrototype: true; so do we.
    content: `Object.freeze(Object.prototype);
      window.__TALLY_FAKE_CONFIG__ = ${JSON.stringify(cfg)};
      ${opts.language ? `localStorage.setItem("tally.language", ${JSON.stringify(opts.language)});` : ""}
      window.__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(e.violatedDirective + " " + e.blockedURI));`,
  });
  await page.addInitScript({ path: FAKE });
  if (opts.clock) await context.clock.install(); // time flows until a test jumps it forward
  await page.goto(BASE);
  const fake = (fn, ...args) => page.evaluate(fn, ...args);
  const done = async () => {
    const csp = await page.evaluate(() => window.__csp).catch(() => []);
    live.delete(entry);
    await context.close();
    ok(csp.length === 0, `CSP violations: ${csp.join("; ")}`);
    ok(problems.length === 0, `page errors: ${problems.join(" | ")}`);
  };
  return { page, fake, done, dialogs, context };
}

const tid = (id) => `[data-testid="${id}"]`;
const shot = (page, name) => page.screenshot({ path: join(OUT, `${name}.png`) });
const text = (page, sel) => page.locator(sel).first().innerText();
const usd = (minor) => new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(minor / 100);
async function until(fn, msg, timeout = 5000) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Assert(`timed out: ${msg}${last instanceof Error ? ` (${last.message})` : ""}`);
}

// ---------- tests ----------

test("sign in → dashboard shows the balance", async () => {
  const { page, fake, done } = await open({ signedIn: false });
  await page.locator(tid("signin-username")).waitFor();
  await page.locator(tid("demo-user-alice")).waitFor();
  await shot(page, "signin-light");
  await page.fill(tid("signin-username"), "alice");
  await page.fill(tid("signin-password"), "wrong");
  await page.click(tid("signin-submit"));
  await page.locator(tid("signin-error")).waitFor();
  ok((await text(page, tid("signin-error"))).includes("Wrong username or password"), "wrong password explained");
  await page.fill(tid("signin-password"), "tally-demo");
  await page.click(tid("signin-submit"));
  await page.locator(tid("balance-amount")).waitFor();
  const minor = await fake(() => window.__tallyFake.available);
  eq((await text(page, tid("balance-amount"))).trim(), usd(minor), "balance formatted from minor units");
  await until(async () => (await text(page, tid("conn-pill-text"))) === "Live · 23 ms", "pill turns live");
  ok((await page.locator(tid("feed-row")).count()) >= 5, "feed rows shown");
  eq(await page.locator(tid("balance-asof")).count(), 0, "no 'as of' while live");
  await shot(page, "home-light");
  await done();
});

test("demo account is one click", async () => {
  const { page, done } = await open({ signedIn: false });
  await page.click(tid("demo-user-bob"));
  await page.locator(tid("balance-amount")).waitFor();
  ok((await page.locator(tid("nav-home")).getAttribute("aria-current")) === "page", "home is current");
  await done();
});

test("home in dark theme, transfers in flight and alerts", async () => {
  const { page, done } = await open({}, { dark: true });
  await page.locator(tid("balance-amount")).waitFor();
  await page.locator(tid("home-alert")).first().waitFor();
  ok((await page.locator(tid("feed-row")).count()) >= 5, "feed rows");
  await shot(page, "home-dark");
  await done();
});

test("history renders rows, filters, searches and exports", async () => {
  const { page, done } = await open({ rows: 2000 });
  await page.click(tid("nav-history"));
  await until(async () => (await text(page, tid("history-count"))).startsWith("2,000 transactions"), "count shows 2,000");
  await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 8, "rows rendered");
  await page.locator(`${tid("balance-chart")} canvas`).waitFor();
  await page.locator(`${tid("spend-chart")} canvas`).waitFor();
  await shot(page, "history-light");

  await page.fill(tid("history-search"), "Pizza");
  await until(async () => {
    const t = await text(page, tid("history-count"));
    return !t.startsWith("2,000") && t.includes("match");
  }, "search narrows the count");
  const memos = await page.locator(`${tid("history-row")} .c-memo`).allInnerTexts();
  ok(memos.length > 0 && memos.every((m) => m.includes("Pizza")), `every row matches the search (${memos.slice(0, 3)})`);
  await page.fill(tid("history-search"), "");

  await page.click(tid("filters-toggle"));
  await page.locator(tid("filter-bar")).waitFor();
  await page.locator(`label:has(${tid("filter-dir-in")})`).click();
  await page.fill(tid("filter-min"), "100");
  await until(async () => {
    const amts = await page.locator(`${tid("history-row")} .c-amt`).allInnerTexts();
    return amts.length > 0 && amts.every((a) => a.startsWith("+") && Number(a.replace(/[^0-9.]/g, "")) >= 100);
  }, "only money in, ≥ $100");
  await page.fill(tid("filter-min"), "12.345");
  await page.locator(".field-error", { hasText: "at most 2 decimal places" }).waitFor();
  await page.click(tid("filter-clear"));
  await until(async () => (await text(page, tid("history-count"))).startsWith("2,000"), "cleared");

  // The engine writes the file where the OS save dialog said; the toast says where, with "Show in folder".
  await page.click(tid("export-csv"));
  const saved = page.locator(tid("toast"), { hasText: "Saved to /home/test/Downloads/tally-history.csv" });
  await saved.waitFor();
  await saved.getByRole("button", { name: "Show in folder" }).waitFor();
  await done();
});

test("history scrolls through 1,000,000 rows", async () => {
  const { page, done } = await open({ rows: 1_000_000 });
  await page.click(tid("nav-history"));
  const table = page.locator(tid("history-table"));
  await until(async () => (await table.getAttribute("data-total")) === "1000000", "total is 1,000,000");
  eq(await table.getAttribute("aria-rowcount"), "1000001", "aria-rowcount");
  await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 5, "first rows");
  // Drag the scrollbar to the middle: the table maps it onto row ~500,000.
  const t0 = Date.now();
  await table.evaluate((el) => {
    el.scrollTop = (el.scrollHeight - el.clientHeight) / 2;
  });
  await until(async () => {
    const idx = await page.locator(tid("history-row")).first().getAttribute("aria-rowindex");
    return Number(idx) > 400_000;
  }, "middle rows are rendered");
  await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 5, "middle rows load", 20_000);
  const jumpMs = Date.now() - t0;
  const before = await page.locator(tid("history-row")).first().getAttribute("aria-rowindex");
  await table.hover();
  await page.mouse.wheel(0, 400);
  await until(async () => (await page.locator(tid("history-row")).first().getAttribute("aria-rowindex")) !== before, "wheel scrolls 1:1");
  const after = Number(await page.locator(tid("history-row")).first().getAttribute("aria-rowindex"));
  ok(Math.abs(after - Number(before)) < 40, `a wheel step moves a few rows, not thousands (${before} → ${after})`);
  await table.focus();
  await page.keyboard.press("End");
  await until(async () => {
    const idx = await page.locator(tid("history-row")).last().getAttribute("aria-rowindex");
    return Number(idx) === 1_000_001;
  }, "End reaches the last row");
  await shot(page, "history-1m");
  console.log(`    (jump to the middle of 1,000,000 rows: ${jumpMs} ms)`);
  await done();
});

test("send money: validation, review, live result", async () => {
  const { page, fake, done } = await open();
  const start = await fake(() => window.__tallyFake.available);
  await page.click(tid("nav-send"));
  await page.fill(tid("send-recipient-search"), "bo");
  await page.click(`${tid("send-recipient")}[data-username="bob"]`);
  const err = async (value, expect) => {
    await page.fill(tid("send-amount"), value);
    await page.click(tid("send-continue"));
    await until(async () => (await text(page, tid("send-amount-error"))).includes(expect), `"${value}" → ${expect}`);
  };
  await err("abc", "digits only");
  await err("12.345", "at most 2 decimal places");
  await err("0", "greater than zero");
  await err("-5", "positive amount");
  await err("99999999", "more than your available");
  await page.fill(tid("send-amount"), "1,234.5");
  await page.fill(tid("send-memo"), "Concert tickets");
  await page.click(tid("send-continue"));
  await page.locator(tid("send-review")).waitFor();
  ok((await text(page, tid("send-review"))).includes("$1,234.50"), "review shows the amount");
  await shot(page, "send-review");
  await page.click(tid("send-confirm"));
  await page.locator(tid("send-result")).waitFor();
  await until(async () => (await page.locator(tid("send-result")).getAttribute("data-phase")) === "completed", "transfer completes");
  ok((await text(page, tid("send-result-title"))).includes("Sent $1,234.50 to Bob Brown"), "result title");
  await shot(page, "send-result");
  eq(await fake(() => window.__tallyFake.available), start - 123_450, "fake balance moved");
  await page.click(tid("nav-home"));
  await until(async () => (await text(page, tid("balance-amount"))).trim() === usd(start - 123_450), "home balance re-read");
  ok((await text(page, tid("feed-row"))).includes("Concert tickets"), "new transaction on top of the feed");
  await done();
});

test("send money offline: explains the queue and expiry, then goes out on reconnect", async () => {
  const since = Date.UTC(2026, 0, 5, 9, 12);
  const { page, fake, done } = await open({ conn: { state: "offline", since } });
  await page.click(tid("nav-send"));
  await page.click(`${tid("send-recipient")}[data-username="carol"]`);
  await page.fill(tid("send-amount"), "20");
  await page.click(tid("send-continue"));
  const note = await text(page, tid("send-offline-note"));
  ok(note.includes("offline") && note.includes("5 minutes"), `offline note explains queue and expiry: ${note}`);
  eq((await text(page, tid("send-confirm"))).trim(), "Queue payment", "button says queue");
  await page.click(tid("send-confirm"));
  await until(async () => (await page.locator(tid("send-result")).getAttribute("data-phase")) === "queued", "queued");
  ok((await text(page, tid("send-result"))).includes("Expires"), "shows expiry");
  await shot(page, "send-queued");
  await page.click(tid("nav-home"));
  await page.locator(`${tid("transfer-row")}[data-phase="queued"]`).waitFor();
  await page.locator(tid("balance-asof")).waitFor();
  await shot(page, "home-offline-queued");
  await fake(() => window.__tallyFake.setConn({ state: "live", latency_ms: 31 }));
  // It goes out and completes; finished payments stay listed for a minute (as the engine keeps them).
  await until(async () => (await page.locator(tid("transfer-row")).getAttribute("data-phase")) === "completed", "queued payment went out after reconnect");
  await until(async () => (await text(page, tid("feed-row"))).includes("Carol Chen"), "and shows in the feed");
  eq(await page.locator(tid("balance-asof")).count(), 0, "live again: no 'as of'");
  await done();
});

test("settings: what waits to be sent follows the engine's updates, without reading the outbox again", async () => {
  const { page, fake, done } = await open({ conn: { state: "offline", since: Date.now() } });
  await page.click(tid("nav-send"));
  await page.click(`${tid("send-recipient")}[data-username="carol"]`);
  await page.fill(tid("send-amount"), "12");
  await page.click(tid("send-continue"));
  await page.click(tid("send-confirm"));
  await until(async () => (await page.locator(tid("send-result")).getAttribute("data-phase")) === "queued", "queued");
  await page.click(tid("nav-settings"));
  await until(async () => (await text(page, tid("settings-outbox"))).includes("$12.00 to carol"), "the queued payment is listed");
  const reads = () => fake(() => window.__tallyFake.calls.filter((c) => c.cmd === "outbox").length);
  const before = await reads();
  await fake(() => window.__tallyFake.setConn({ state: "live", latency_ms: 20 }));
  await until(async () => (await page.locator(tid("settings-outbox")).count()) === 0, "sent: it leaves the list");
  eq(await reads(), before, "the list followed the typed updates, not a new read of the outbox");
  await done();
});

test("send result follows the live transfer status", async () => {
  const { page, done } = await open({ tick: 600 });
  await page.click(tid("nav-send"));
  await page.click(`${tid("send-recipient")}[data-username="dave"]`);
  await page.fill(tid("send-amount"), "5");
  await page.click(tid("send-continue"));
  await page.click(tid("send-confirm"));
  await until(async () => (await page.locator(tid("send-result")).getAttribute("data-phase")) === "processing", "processing with progress");
  eq(await page.locator(`${tid("send-result")} [role="progressbar"]`).getAttribute("aria-valuenow"), "50", "progress 50%");
  await shot(page, "send-processing");
  await until(async () => (await page.locator(tid("send-result")).getAttribute("data-phase")) === "completed", "completed", 8000);
  await done();
});

test("send money: the amount step shows the limits and refuses what is over them", async () => {
  const { page, fake, done } = await open({ limits: { single_max: 100_000, daily_max: 500_000 }, sentToday: { USD: 180_000 } });
  await page.click(tid("nav-send"));
  await page.click(`${tid("send-recipient")}[data-username="bob"]`);
  const limits = (want) => until(async () => (await text(page, tid("send-limits"))).trim() === want, `limits say "${want}"`);
  await limits("Up to $1,000.00 per payment · $3,200.00 left today");
  const refused = async (value, expect) => {
    await page.fill(tid("send-amount"), value);
    await page.click(tid("send-continue"));
    await until(async () => (await text(page, tid("send-amount-error"))).includes(expect), `"${value}" → ${expect}`);
    eq(await page.locator(tid("send-review")).count(), 0, `"${value}" stays at the amount step`);
    eq(await page.locator(tid("send-amount")).getAttribute("aria-invalid"), "true", "the input is marked invalid");
  };
  await refused("1,500", "Over your limit of $1,000.00 per payment");

  // Another device spends: the `transactions` change re-reads what is left today, on screen.
  await fake(() => window.__tallyFake.sentFromAnotherDevice(300_000));
  await limits("Up to $1,000.00 per payment · $200.00 left today");
  await refused("500", "Only $200.00 left of today's limit");
  await shot(page, "send-over-limit");

  // Another currency: its own limits, read again.
  const reads = await fake(() => window.__tallyFake.calls.filter((c) => c.cmd === "plugin:tally|limits").length);
  await page.selectOption(tid("send-currency"), "EUR");
  await limits("Up to €1,000.00 per payment · €5,000.00 left today");
  ok((await fake(() => window.__tallyFake.calls.filter((c) => c.cmd === "plugin:tally|limits").length)) > reads, "limits read again for EUR");
  await page.selectOption(tid("send-currency"), "USD");
  await limits("Up to $1,000.00 per payment · $200.00 left today");

  // "Use max" fills what is left today, which goes through.
  eq((await text(page, tid("send-max"))).trim(), "Use max", "the button says the limits cap it");
  await page.click(tid("send-max"));
  eq(await page.inputValue(tid("send-amount")), "200.00", "max is what is left today");
  await page.click(tid("send-continue"));
  await page.locator(tid("send-review")).waitFor();
  await page.click(tid("send-confirm"));
  await until(async () => (await page.locator(tid("send-result")).getAttribute("data-phase")) === "completed", "transfer completes");
  eq(await fake(() => window.__tallyFake.calls.filter((c) => c.cmd === "plugin:tally|send_money").length), 1, "over-limit amounts never reached send_money");

  await page.getByRole("button", { name: "Send another" }).click();
  await page.click(`${tid("send-recipient")}[data-username="bob"]`);
  await limits("Up to $1,000.00 per payment · $0.00 left today");
  await refused("1", "You've reached today's limit of $5,000.00. Try again tomorrow.");
  await done();
});

test("settings: limits per currency held", async () => {
  const { page, fake, done } = await open({ limits: { single_max: 100_000, daily_max: 500_000 }, sentToday: { USD: 180_000 } }, { viewport: { width: 360, height: 780 } });
  await page.click(tid("nav-settings"));
  const row = page.locator(`${tid("limits-row")}[data-currency="USD"]`);
  await row.waitFor();
  eq((await text(page, `${tid("limits-row")}[data-currency="USD"] ${tid("limit-single")}`)).trim(), "$1,000.00", "per payment");
  eq((await text(page, `${tid("limits-row")}[data-currency="USD"] ${tid("limit-daily")}`)).trim(), "$5,000.00", "per day");
  eq((await text(page, `${tid("limits-row")}[data-currency="USD"] ${tid("limit-remaining")}`)).trim(), "$3,200.00", "left today");
  eq((await text(page, `${tid("limits-row")}[data-currency="EUR"] ${tid("limit-remaining")}`)).trim(), "€5,000.00", "EUR left today");
  const box = await page.locator(tid("limits-section")).boundingBox();
  const sw = await page.evaluate(() => document.querySelector("main.content").scrollWidth - document.querySelector("main.content").clientWidth);
  ok(box && box.x >= 0 && box.x + box.width <= 360 && sw <= 0, "the limits fit 360 px");
  await page.locator(tid("limits-section")).scrollIntoViewIfNeeded();
  await shot(page, "settings-limits-narrow");
  await fake(() => window.__tallyFake.sentFromAnotherDevice(120_000));
  await until(async () => (await text(page, `${tid("limits-row")}[data-currency="USD"] ${tid("limit-remaining")}`)).trim() === "$2,000.00", "re-read after a payment");
  // Support verifies the user: the level and its limits show at once (the hub's `limits` event).
  ok((await text(page, tid("kyc-level"))).includes("Identity check: not done yet"), "the level before");
  await fake(() => window.__tallyFake.setKyc("verified", { single_max: 10_000_000, daily_max: 40_000_000 }));
  await until(async () => (await text(page, tid("kyc-level"))).trim() === "Identity check: verified", "the level after");
  await until(async () => (await text(page, `${tid("limits-row")}[data-currency="USD"] ${tid("limit-single")}`)).trim() === "$100,000.00", "its limits");
  await done();
});

test("send: a payment held for a compliance review says so, keeps the money on hold, then completes when released", async () => {
  const { page, fake, done } = await open({ reviewOver: 50_000 });
  await page.click(tid("nav-send"));
  await page.fill(tid("send-recipient-search"), "bo");
  await page.click(`${tid("send-recipient")}[data-username="bob"]`);
  await page.fill(tid("send-amount"), "600");
  await page.click(tid("send-continue"));
  await page.locator(tid("send-review")).waitFor();
  await page.click(tid("send-confirm"));
  await until(async () => (await text(page, tid("send-result-title"))).includes("Your payment is under review"), "said under review");
  ok((await text(page, tid("send-under-review"))).includes("The money is held"), "what it means");
  await page.locator(tid("toast"), { hasText: "Your payment is under review" }).waitFor();
  ok((await page.locator(tid("toast"), { hasText: "Payment sent" }).count()) === 0, "never told it was sent while it is held");
  await shot(page, "send-under-review");
  await page.click(tid("nav-home"));
  await until(async () => (await text(page, ".home")).includes("Under review"), "in flight, under review");
  await fake(() => window.__tallyFake.releaseReview());
  await until(async () => !(await text(page, ".home")).includes("Under review"), "released");
  await done();
});

test("add money: my reference, copied, and the operator's instructions", async () => {
  const instructions = "Bank transfer to Tally Ltd\nIBAN GB82 WEST 1234 5698 7654 32\nPut your reference in the payment note.";
  const { page, done } = await open({ depositInstructions: instructions }, { viewport: { width: 390, height: 844 } });
  await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
  await page.click(tid("home-add-money"));
  await page.locator(tid("deposit-reference")).waitFor();
  eq((await text(page, tid("deposit-reference"))).trim(), "TLY-7K3M-Q9XD-14", "my reference");
  eq(await page.locator(tid("deposit-instructions")).innerText(), instructions, "the instructions, line by line");
  await page.click(tid("deposit-reference-copy"));
  await page.locator(tid("toast"), { hasText: "Reference copied" }).waitFor();
  eq(await page.evaluate(() => navigator.clipboard.readText()), "TLY-7K3M-Q9XD-14", "copied as shown");
  const box = await page.locator(tid("add-money-dialog")).boundingBox();
  ok(box && box.x >= 0 && box.x + box.width <= 390, "fits a phone");
  await shot(page, "add-money-phone");
  await done();
});

test("add money: before the operator publishes instructions, the app says so", async () => {
  const { page, done } = await open();
  await page.click(tid("home-add-money"));
  await page.locator(tid("deposit-instructions-none")).waitFor();
  ok((await text(page, tid("add-money-dialog"))).includes("hasn't published how to pay in yet"), "said plainly");
  await done();
});

test("withdraw: a mistyped IBAN is caught, the hold shows at once, the operator's answer arrives; offline it waits", async () => {
  const { page, fake, done } = await open({}, { viewport: { width: 390, height: 844 } });
  const before = await fake(() => window.__tallyFake.available);
  await page.click(tid("home-withdraw"));
  await page.locator(tid("withdraw-dialog")).waitFor();
  await page.click(tid("withdraw-submit"));
  ok((await text(page, tid("withdraw-dialog"))).includes("Enter where the money should go."), "nothing to say where");
  await page.fill(tid("withdraw-amount"), "25.00");
  await page.fill(tid("withdraw-destination"), "DE89 3704 0044 0532 0130 01");
  await page.click(tid("withdraw-submit"));
  await until(async () => (await text(page, tid("withdraw-error"))).includes("check digits do not match"), "the IBAN's typo is named");
  eq(await fake(() => window.__tallyFake.available), before, "nothing held for a mistyped IBAN");
  const box = await page.locator(tid("withdraw-dialog")).boundingBox();
  ok(box && box.x >= 0 && box.x + box.width <= 390, "the form fits a phone");
  await shot(page, "withdraw-phone");
  await page.fill(tid("withdraw-destination"), "de89370400440532013000");
  await page.click(tid("withdraw-submit"));
  await page.locator(tid("toast"), { hasText: "is on hold until it is paid out to DE89 3704 0044 0532 0130 00" }).waitFor();
  eq(await page.locator(tid("withdraw-dialog")).count(), 0, "the dialog closed");
  eq(await fake(() => window.__tallyFake.available), before - 2_500, "held once");
  const shown = async () => Number(await page.locator(tid("balance-amount")).getAttribute("data-minor"));
  await until(async () => (await shown()) === before - 2_500, "the balance after the hold");
  ok((await text(page, ".bal-main")).includes("$25.00"), "on hold shown");
  const row = page.locator(tid("feed-row"), { hasText: "DE89 3704 0044 0532 0130 00" }).first();
  await row.waitFor();
  await fake(() => window.__tallyFake.decideWithdrawal(false, "The account holder's name does not match yours."));
  await page.locator(tid("toast"), { hasText: "Withdrawal of $25.00 rejected" }).waitFor();
  await until(async () => (await shown()) === before, "the money is back");
  await until(async () => !(await text(page, ".bal-main")).includes("$25.00"), "nothing on hold");
  // Offline: the form says why and cannot send.
  await fake(() => window.__tallyFake.setConn({ state: "offline", since: Date.now(), reason: "no network", next_retry_ms: 3000 }));
  await page.click(tid("home-withdraw"));
  await page.locator(tid("withdraw-dialog")).waitFor();
  ok((await text(page, tid("withdraw-dialog"))).includes("You're offline."), "offline said");
  ok(await page.locator(tid("withdraw-submit")).isDisabled(), "cannot send offline");
  await done();
});

test("chat: other people's text is text, typing, send, edit, fail", async () => {
  const { page, fake, done, dialogs } = await open();
  await page.click(tid("nav-chat"));
  await page.locator(tid("message-pane")).waitFor();
  await page.locator(tid("message-text"), { hasText: "<img src=x onerror=alert(1)>" }).waitFor();
  eq(await page.locator(`${tid("message-list")} img`).count(), 0, "no <img> created from message text");
  eq(await page.locator("img").count(), 0, "no <img> anywhere");
  eq(dialogs.length, 0, "no alert() ran");
  ok((await page.locator("mark.mention.self").count()) >= 1, "mention of me highlighted");
  ok((await page.locator(tid("message-read")).count()) >= 1, "read-by ticks on own messages");
  ok((await page.locator(".bubble.deleted").count()) === 1, "deleted marker");

  await fake(() => window.__tallyFake.setTypingOf(7, "bob", true));
  await until(async () => (await text(page, tid("typing-indicator"))) === "Bob is typing…", "typing indicator");

  await page.fill(tid("chat-input"), "On my way <b>now</b>");
  await page.keyboard.press("Enter");
  const mine = page.locator(tid("message"), { hasText: "On my way <b>now</b>" });
  await mine.waitFor();
  await until(async () => (await mine.getAttribute("data-local")) === "sent", "local echo becomes sent");
  eq((await page.locator(tid("chat-input")).inputValue()), "", "input cleared");

  await fake(() => window.__tallyFake.incomingMessage(7, "bob", "Great, see you <script>x</script>"));
  await page.locator(tid("message-text"), { hasText: "see you <script>x</script>" }).waitFor();
  await until(async () => (await text(page, tid("live-region"))).includes("see you"), "live region announces the message");
  eq(await page.locator(`${tid("message-list")} script`).count(), 0, "no script element");

  await mine.hover();
  await mine.locator(tid("message-edit")).click();
  await page.fill(tid("chat-input"), "On my way (5 min)");
  await page.keyboard.press("Enter");
  await page.locator(tid("message"), { hasText: "On my way (5 min)" }).locator(".edited").waitFor();

  await page.fill(tid("chat-input"), "this will fail!");
  await page.keyboard.press("Enter");
  const failed = page.locator(tid("message"), { hasText: "this will fail!" });
  await until(async () => (await failed.getAttribute("data-local")) === "failed", "failed state");
  await failed.locator(tid("message-retry")).waitFor();
  await shot(page, "chat-light");
  await failed.locator(tid("message-discard")).click();
  await until(async () => (await failed.count()) === 0, "discarded");
  await done();
});

test("chat: load older on scroll-up, dark theme", async () => {
  const { page, done } = await open({}, { dark: true });
  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="8"]`);
  await page.locator(tid("message-text"), { hasText: "Who's buying milk?" }).waitFor();
  const first = await page.locator(tid("message")).count();
  eq(first, 50, "first page of 50");
  await page.locator(tid("message-list")).evaluate((el) => (el.scrollTop = 0));
  await until(async () => (await page.locator(tid("message")).count()) > 50, "older messages loaded");
  await page.locator(tid("message-list")).evaluate((el) => (el.scrollTop = el.scrollHeight));
  await shot(page, "chat-dark");
  await done();
});

test("notifications: grouped, critical first, mark all read", async () => {
  // A fixed afternoon, so the seeded notifications share a day whatever the clock says.
  const { page, done } = await open({ now: Date.UTC(2026, 0, 5, 15, 0) });
  await until(async () => (await text(page, tid("badge-notifications"))) === "4", "unread badge");
  await page.click(tid("nav-notifications"));
  await page.locator(tid("notification")).first().waitFor();
  eq(await page.locator(tid("notification")).first().getAttribute("data-priority"), "critical", "critical first within the day");
  ok((await page.locator(`${tid("notification")}[data-read="false"]`).count()) === 4, "4 unread");
  await shot(page, "notifications-light");
  await page.click(tid("mark-all-read"));
  await until(async () => (await page.locator(`${tid("notification")}[data-read="false"]`).count()) === 0, "all read");
  await until(async () => (await page.locator(tid("badge-notifications")).count()) === 0, "badge cleared");
  await page.locator(tid("toast"), { hasText: "All caught up" }).waitFor();
  await done();
});

test("connection pill states", async () => {
  const { page, fake, done } = await open();
  const pill = () => text(page, tid("conn-pill"));
  await until(async () => (await pill()).includes("Live · 23 ms"), "live");
  await fake(() => window.__tallyFake.setConn({ state: "backing_off", attempt: 2, retry_at: Date.now() + 4000, last_error: "connection refused", offline_since: null }));
  await until(async () => /Reconnecting in [34] s/.test(await pill()), "countdown");
  ok((await pill()).includes("Retry"), "retry offered");
  await until(async () => (await pill()).includes("Reconnecting in 2 s") || (await pill()).includes("Reconnecting in 3 s"), "counts down");
  await page.locator(tid("conn-pill")).screenshot({ path: join(OUT, "pill-backing-off.png") });
  await page.click(tid("conn-pill-action"));
  await until(async () => (await fake(() => window.__tallyFake.calls.some((c) => c.cmd === "plugin:tally|reconnect_now"))), "Retry calls reconnect_now");
  await until(async () => (await pill()).includes("Live · 19 ms"), "back to live");
  await fake(() => window.__tallyFake.setConn({ state: "offline", since: Date.UTC(2026, 0, 5, 9, 12) }));
  await until(async () => /Offline since 0?9:12( AM)? — showing saved data/.test(await pill()), "offline");
  await page.click(tid("nav-home"));
  await page.locator(tid("balance-asof")).waitFor();
  await page.locator(tid("conn-pill")).screenshot({ path: join(OUT, "pill-offline.png") });
  await fake(() => window.__tallyFake.setConn({ state: "auth_failed", reason: "session revoked" }));
  await until(async () => (await pill()).includes("Sign in again"), "auth failed prompts sign-in");
  await page.click(tid("conn-pill-action"));
  await page.locator(tid("signin-password")).waitFor();
  eq(await page.locator(tid("signin-username")).inputValue(), "alice", "username prefilled");
  await page.fill(tid("signin-password"), "tally-demo");
  await page.click(tid("signin-submit"));
  await until(async () => (await pill()).includes("Live"), "live again after signing in");
  eq(await page.locator('[role="dialog"]').count(), 0, "no modal left");
  await done();
});

test("keyboard: Ctrl+K focuses search, Esc closes dialogs, Tab shows focus", async () => {
  const { page, done } = await open();
  await page.locator(tid("balance-amount")).waitFor();
  await page.keyboard.press("Control+k");
  ok(await page.locator(tid("global-search")).evaluate((el) => el === document.activeElement), "search focused");
  await page.keyboard.type("Pizza");
  await page.locator("#search-results").waitFor();
  await page.keyboard.press("Escape");
  await page.click(tid("nav-settings"));
  await page.click(tid("sign-out"));
  await page.locator(tid("sign-out-dialog")).waitFor();
  await page.keyboard.press("Escape");
  await until(async () => (await page.locator(tid("sign-out-dialog")).count()) === 0, "Esc closes the dialog");
  await page.locator(tid("nav-home")).focus();
  await page.keyboard.press("Tab");
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  ok(outline !== "none", "visible focus ring");
  await done();
});

test("settings: theme override (sign-out is in tests/browser-account.mjs)", async () => {
  const { page, fake, done } = await open();
  await page.click(tid("nav-settings"));
  await page.locator(`label:has(${tid("theme-dark")})`).click();
  await until(async () => (await page.evaluate(() => document.documentElement.dataset.theme)) === "dark", "dark applied");
  await until(async () => (await fake(() => window.__tallyFake.prefs.theme)) === "dark", "saved via set_prefs");
  await page.locator(tid("device")).first().waitFor(); // Security's devices list, for the screenshot
  // The hidden radio inputs sit inside the scrolling content: clicking one scrolls the content, never the window.
  eq(await page.evaluate(() => document.scrollingElement.scrollHeight - document.scrollingElement.clientHeight), 0, "the document itself does not scroll");
  await shot(page, "settings-dark");
  await done();
});

test("settings: keep running when closed, start at login, pause notifications (and a pause from the tray shows)", async () => {
  const { page, fake, done } = await open();
  await page.click(tid("nav-settings"));
  const keep = page.getByRole("checkbox", { name: "Keep running when the window is closed" });
  eq(await keep.isChecked(), true, "on by default");
  await keep.click();
  await until(async () => (await fake(() => window.__tallyFake.prefs.keep_running)) === false, "saved off");
  const login = page.getByRole("checkbox", { name: "Start Tally when I log in" });
  eq(await login.isChecked(), false, "off by default");
  await login.click();
  await until(async () => (await fake(() => window.__tallyFake.loginItem)) === true, "login item on");
  await page.click(tid("pause-notifications"));
  await page.locator(tid("paused-until")).waitFor();
  await page.click(tid("resume-notifications"));
  await page.locator(tid("pause-notifications")).waitFor();
  eq(await fake(() => window.__tallyFake.prefs.notifications_paused_until ?? null), null, "resumed");
  // The tray's "Pause notifications for 1 hour" changes the prefs outside Settings: Settings follows.
  await fake(() => {
    const f = window.__tallyFake;
    f.prefs.notifications_paused_until = Date.now() + 3_600_000;
    f.changed({ topic: "prefs" });
  });
  await page.locator(tid("paused-until")).waitFor();
  await done();
});

test("tally:// links: a pay link fills Send's review in (never sends), a bad one says why, my pay link shows a QR code", async () => {
  const { page, fake, done } = await open();
  await page.locator(tid("balance-amount")).waitFor();
  const link = (l) => fake((l) => window.__tallyFake.openLink(l), l);
  const before = await fake(() => window.__tallyFake.nextTransfer);
  // A valid pay link: review, filled in, with the "from a link" note; nothing was sent.
  await link({ outcome: "intent", intent: { kind: "pay", to: "bob", amount: { minor: 1234, currency: "USD" }, memo: "Tickets" } });
  await page.locator(tid("send-review")).waitFor();
  await page.locator(tid("send-from-link")).waitFor();
  const review = await text(page, tid("send-review"));
  ok(review.includes("$12.34") && review.includes("Bob Brown") && review.includes("Tickets"), review);
  eq(await fake(() => window.__tallyFake.nextTransfer), before, "a link never sends by itself");
  await shot(page, "link-pay-review");
  // Over the balance: the amount step, saying why.
  await link({ outcome: "intent", intent: { kind: "pay", to: "bob", amount: { minor: 999_999_999, currency: "USD" }, memo: "" } });
  await until(async () => (await text(page, tid("send-amount-error"))).length > 0, "the amount step says why");
  // A currency the user does not hold.
  await link({ outcome: "intent", intent: { kind: "pay", to: "bob", amount: { minor: 500, currency: "JPY" }, memo: "" } });
  await until(async () => (await text(page, tid("send-amount-error"))).includes("you hold no JPY"), "no JPY");
  // Someone not in the contacts: review says the server checks the name.
  await link({ outcome: "intent", intent: { kind: "pay", to: "zed", amount: { minor: 100, currency: "USD" }, memo: "" } });
  await until(async () => (await text(page, tid("send-from-link"))).includes("not in your contacts"), "unknown name noted");
  // A link the engine could not read: its sentence.
  await link({ outcome: "refused", message: "This link's amount must be more than zero." });
  await until(async () => (await text(page, tid("toast-lane"))).includes("more than zero"), "the refusal is shown");
  // A chat link opens the room.
  await link({ outcome: "intent", intent: { kind: "chat", room: 7 } });
  await until(async () => (await page.evaluate(() => document.body.innerText)).includes("pizza on Friday"), "the room is open");
  // My pay link: the link and its QR code, with the amount typed.
  await page.click(tid("nav-home"));
  await page.click(tid("home-pay-link"));
  await page.locator(`${tid("pay-link-dialog")} ${tid("qr-code")} svg`).waitFor();
  eq(await text(page, tid("pay-link-text")), "tally://pay?to=alice", "no amount");
  await page.fill(tid("pay-link-amount"), "12.5");
  await until(async () => (await text(page, tid("pay-link-text"))) === "tally://pay?to=alice&amount=12.50&currency=USD", "with the amount");
  await shot(page, "link-my-pay-link");
  await done();
});

test("settings: check for updates, a bad signature refused, install with progress", async () => {
  const { page, fake, done } = await open();
  await page.click(tid("nav-settings"));
  await page.click(tid("update-check"));
  await page.locator(tid("update-none")).waitFor();
  await fake(() => {
    const f = window.__tallyFake;
    f.update = { current: "0.1.0", available: { version: "0.2.0", notes: "Faster sync." } };
    f.updateOutcome = "bad_signature";
  });
  await page.click(tid("update-check"));
  await page.locator(tid("update-available")).waitFor();
  await page.click(tid("update-install"));
  await until(async () => (await text(page, tid("update-error"))).includes("signature does not match"), "the refusal is said");
  eq(await fake(() => window.__tallyFake.updatesInstalled), 0, "nothing installed");
  await fake(() => (window.__tallyFake.updateOutcome = "installed"));
  await page.click(tid("update-install"));
  await until(async () => (await fake(() => window.__tallyFake.updatesInstalled)) === 1, "installed");
  await page.locator(tid("update-progress")).waitFor();
  ok((await text(page, tid("update-progress"))).includes("50%"), "progress in percent");
  await done();
});

test("a finished payment leaves 'Payments in flight' when its minute is up, with nothing else happening", async () => {
  const { page, fake, done } = await open({ tick: 50 }, { clock: true });
  await page.locator(tid("balance-amount")).waitFor();
  await fake(() => window.__tallyFake.sendMoney({ to: "bob", amount: { minor: 700, currency: "USD" }, memo: "Lunch" }));
  const row = page.locator(tid("transfer-row"));
  await until(async () => (await row.count()) === 1 && (await row.getAttribute("data-phase")) === "completed", "completed, still listed");
  await page.clock.fastForward("00:30");
  eq(await row.count(), 1, "still there after 30 s");
  await page.clock.fastForward("00:31");
  await until(async () => (await row.count()) === 0, "gone after a minute");
  eq(await page.locator(tid("transfers-in-flight")).count(), 0, "and the section with it");
  await done();
});

for (const width of [760, 1100]) {
  test(`a long toast is read whole at ${width} px (the new-sign-in warning)`, async () => {
    const { page, fake, done } = await open({}, { viewport: { width, height: 700 } });
    await page.locator(tid("balance-amount")).waitFor();
    await fake(() =>
      window.__tallyFake.emit({ type: "toast", kind: "security", title: "New sign-in to your account", body: "A new device signed in: Firefox on Windows. If this wasn't you, change your password." }),
    );
    const t = page.locator(tid("toast")).first();
    await t.waitFor();
    await page.waitForTimeout(300);
    const cutOff = () => t.evaluate((el) => [...el.querySelectorAll("*")].filter((e) => e.children.length === 0 && e.textContent.trim() && e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent.trim()));
    // In the bottom strip (narrow windows) the toast has room; in the header it is one line each until
    // pointed at, then it shows all of it.
    if (width >= 1100) await t.hover();
    eq(JSON.stringify(await cutOff()), "[]", "no line of the toast is cut off");
    const box = await t.boundingBox();
    ok(box && box.y >= 0 && box.y + box.height <= 700, `and all of it is on screen (${JSON.stringify(box)})`);
    await shot(page, `toast-long-${width}`);
    await done();
  });
}

test("narrow window: bottom bar, same layout", async () => {
  const { page, done } = await open({}, { viewport: { width: 390, height: 800 } });
  await page.locator(tid("balance-amount")).waitFor();
  const box = await page.locator(tid("nav-home")).boundingBox();
  ok(box && box.y > 700, `nav is at the bottom (y=${box?.y})`);
  await shot(page, "home-narrow");
  await page.click(tid("nav-chat"));
  await page.locator(tid("room-item")).first().waitFor();
  await page.locator(tid("room-item")).first().click();
  await page.locator(tid("chat-input")).waitFor();
  await shot(page, "chat-narrow");
  await page.setViewportSize({ width: 900, height: 760 });
  await page.click(tid("nav-history"));
  await until(async () => (await page.locator(`${tid("history-row")} .c-amt`).count()) > 3, "history rows at medium width");
  await shot(page, "history-medium");
  await done();
});

test("history download: bar and 'so far' labels in History, search and Settings, then History complete", async () => {
  const { page, fake, done } = await open({ backfill: { fetched: 41_200, total: 100_000 } });
  const nf = new Intl.NumberFormat("en-US");
  const sp = await fake(() => window.__tallyFake.syncState);
  await page.click(tid("nav-history"));
  const bar = page.locator(`${tid("sync-bar")} [role="progressbar"]`);
  await bar.waitFor();
  eq(await bar.getAttribute("aria-valuenow"), String(Math.floor((sp.fetched * 100) / sp.total)), "aria-valuenow is fetched/total");
  eq(await bar.getAttribute("aria-valuemin"), "0", "aria-valuemin");
  eq(await bar.getAttribute("aria-valuemax"), "100", "aria-valuemax");
  const want = `Downloading history — ${nf.format(sp.fetched)} of ${nf.format(sp.total)}`;
  eq((await text(page, tid("sync-text"))).trim(), want, "History shows the download");
  eq(await bar.getAttribute("aria-valuetext"), want, "text alternative");
  const tools = await page.locator(tid("filters-toggle")).boundingBox();
  const barBox = await page.locator(tid("sync-bar")).boundingBox();
  ok(tools && barBox && barBox.y > tools.y + tools.height, "the bar sits below the controls, not over them");

  await page.fill(tid("history-search"), "Pizza");
  await until(async () => (await text(page, tid("history-count"))).includes("match so far — history still downloading"), "History search says 'so far'");
  await shot(page, "history-syncing");
  await page.fill(tid("global-search"), "Pizza");
  await until(async () => /^\d[\d,]* results? so far — history still downloading$/.test((await text(page, tid("search-so-far"))).trim()), "global search says 'so far'");
  await shot(page, "search-so-far");
  await page.keyboard.press("Escape");

  await fake(() => window.__tallyFake.backfill(100_000, 100_000));
  await until(async () => (await text(page, tid("sync-text"))).trim() === "History complete", "History says History complete");
  eq(await page.locator(`${tid("sync-bar")} [role="progressbar"]`).count(), 0, "no bar once complete");
  await until(async () => !(await text(page, tid("history-count"))).includes("so far"), "History search label gone");
  await until(async () => (await text(page, tid("live-region"))).includes("History complete"), "completion is announced");
  await page.fill(tid("global-search"), "Pizzas");
  await page.fill(tid("global-search"), "Pizza");
  await page.locator("#search-results").waitFor();
  eq(await page.locator(tid("search-so-far")).count(), 0, "global search label gone");
  await page.keyboard.press("Escape");

  await page.click(tid("nav-settings"));
  const device = page.locator(tid("device-section"));
  await device.waitFor();
  eq((await device.locator(tid("sync-text")).innerText()).trim(), "History complete", "Settings keeps the status line");
  ok((await text(page, tid("sync-parts"))).includes("All 100,000"), "per-kind breakdown");
  const keep = page.getByRole("checkbox", { name: "Keep chat history offline" });
  ok(await keep.isChecked(), "Keep chat history offline is on by default");
  ok((await text(page, "#keep-history-hint")).includes("newest 500 per room"), "the hint explains it");
  await keep.uncheck();
  await until(async () => (await fake(() => window.__tallyFake.prefs.keep_chat_history)) === false, "saved via set_prefs");
  const sent = await fake(() => window.__tallyFake.calls.filter((c) => c.cmd === "plugin:tally|set_prefs").map((c) => c.args.prefs.keep_chat_history));
  eq(sent.at(-1), false, "set_prefs {keep_chat_history: false}");
  await shot(page, "settings-keep-history-light");
  await page.click(tid("nav-home"));
  await page.click(tid("nav-settings"));
  await page.locator(tid("keep-history-toggle")).waitFor();
  ok(!(await keep.isChecked()), "still off when Settings re-reads prefs");
  await done();
});

test("history download in Settings (dark) and at phone width: no overflow", async () => {
  const { page, fake, done } = await open({ backfill: { fetched: 800, total: null } }, { dark: true, viewport: { width: 360, height: 780 } });
  await page.click(tid("nav-settings"));
  const bar = page.locator(`${tid("device-section")} [role="progressbar"]`);
  await bar.waitFor();
  eq(await bar.getAttribute("aria-valuenow"), null, "indeterminate while the total is unknown");
  const sp = await fake(() => window.__tallyFake.syncState);
  eq((await text(page, `${tid("device-section")} ${tid("sync-text")}`)).trim(), `Downloading history — ${new Intl.NumberFormat("en-US").format(sp.fetched)} so far`, "so far text");
  const fits = async (sel) => {
    const r = await page.locator(sel).boundingBox();
    const sw = await page.evaluate(() => document.querySelector("main.content").scrollWidth - document.querySelector("main.content").clientWidth);
    return r && r.x >= 0 && r.x + r.width <= 360 && sw <= 0;
  };
  await page.locator(tid("keep-history-toggle")).waitFor();
  ok(await fits(tid("device-section")), "Settings fits 360 px");
  const hint = await page.locator("#keep-history-hint").boundingBox();
  ok(hint && hint.x >= 0 && hint.x + hint.width <= 360, "the history hint fits 360 px");
  await shot(page, "settings-syncing-dark-narrow");
  await page.click(tid("nav-history"));
  await page.locator(`${tid("sync-bar")} [role="progressbar"]`).waitFor();
  await page.locator(tid("sync-bar")).scrollIntoViewIfNeeded();
  ok(await fits(tid("sync-bar")), "History's bar fits 360 px");
  await shot(page, "history-syncing-narrow");
  await fake(() => window.__tallyFake.backfill(2000, 2000));
  await page.click(tid("nav-settings"));
  await until(async () => (await text(page, `${tid("device-section")} ${tid("sync-text")}`)).trim() === "History complete", "complete in Settings");
  await done();
});

test("a problem from the engine: a persistent, dismissible alert under the header", async () => {
  const { page, fake, done } = await open({}, { clock: true });
  await page.locator(tid("balance-amount")).waitFor();
  const msg = "The system keychain refused to store your session, so you'll sign in again after quitting Tally.";
  await fake((m) => window.__tallyFake.problem("keychain_unavailable", m), msg);
  const alert = page.getByRole("alert").filter({ hasText: msg });
  await alert.waitFor();
  eq(await alert.getAttribute("data-code"), "keychain_unavailable", "the code is kept");
  eq(await page.locator(`${tid("toast")} [role="alert"]`).count(), 0, "not a toast");
  const clear = async (label) => {
    const head = await page.locator("header.topbar").boundingBox();
    const box = await alert.boundingBox();
    ok(head && box && box.y >= head.y + head.height, `${label}: the alert is below the header (${box?.y} vs ${head && head.y + head.height})`);
    for (const sel of [tid("global-search"), tid("conn-pill"), "header .me"]) {
      const hit = await page.locator(sel).evaluate((el) => {
        const r = el.getBoundingClientRect();
        return el.contains(document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2));
      });
      ok(hit, `${label}: ${sel} is not covered`);
    }
  };
  await clear("wide");
  await shot(page, "problem-light");
  await page.clock.fastForward("01:00");
  await page.click(tid("nav-history"));
  await page.click(tid("nav-home"));
  ok(await alert.isVisible(), "still shown a minute and two views later");
  await page.setViewportSize({ width: 390, height: 800 });
  await clear("narrow");
  const box = await alert.boundingBox();
  ok(box && box.x >= 0 && box.x + box.width <= 390, "fits a phone width");
  await shot(page, "problem-narrow");
  await alert.getByRole("button", { name: "Dismiss this alert" }).click();
  await until(async () => (await page.getByRole("alert").count()) === 0, "dismissed");
  await done();
});

test("auto-away after 10 minutes without input, back on input; never over an explicit choice", async () => {
  const { page, fake, done } = await open({}, { clock: true });
  await page.locator(tid("balance-amount")).waitFor();
  const sets = () => fake(() => window.__tallyFake.presenceSet.join(","));
  await page.clock.fastForward("09:00");
  eq(await sets(), "", "nothing before 10 minutes");
  await page.clock.fastForward("01:01");
  await until(async () => (await sets()) === "away", "away after 10 minutes idle");
  await page.mouse.move(200, 200);
  await page.mouse.move(220, 240);
  await until(async () => (await sets()) === "away,online", "online again on input");
  await page.clock.fastForward("10:01");
  await until(async () => (await sets()) === "away,online,away", "away again");
  await page.evaluate(() => document.dispatchEvent(new Event("visibilitychange")));
  await until(async () => (await sets()) === "away,online,away,online", "the window shown again counts as input");

  await page.click(tid("nav-settings"));
  await page.selectOption(tid("presence-select"), "busy");
  await until(async () => (await sets()).endsWith(",busy"), "busy chosen");
  const before = await sets();
  await page.clock.fastForward("30:00");
  await page.keyboard.press("Shift");
  await page.waitForTimeout(300);
  eq(await sets(), before, "a busy user is never set away, nor back online");
  eq(await page.locator(tid("presence-select")).inputValue(), "busy", "Settings still shows Busy");
  await done();
});

test("settings: the status picker shows the status last set", async () => {
  const { page, fake, done } = await open();
  await page.click(tid("nav-settings"));
  const picker = page.locator(tid("presence-select"));
  eq(await picker.inputValue(), "online", "online at first");
  await page.selectOption(tid("presence-select"), "busy");
  await page.locator(tid("toast"), { hasText: "Status updated" }).waitFor();
  await page.click(tid("nav-home"));
  await page.click(tid("nav-settings"));
  eq(await picker.inputValue(), "busy", "Busy after leaving Settings and coming back");
  eq(await picker.locator("option:checked").innerText(), "Busy", "the visible label");
  await page.reload();
  await page.click(tid("nav-settings"));
  eq(await picker.inputValue(), "busy", "Busy after restarting the app");
  await fake(() => (window.__tallyFake.presenceError = "offline"));
  await page.selectOption(tid("presence-select"), "away");
  await page.locator(tid("toast"), { hasText: "Couldn't update your status" }).waitFor();
  eq(await picker.inputValue(), "busy", "a status that did not take is not shown");
  await shot(page, "settings-status-busy");
  await done();
});

test("chat: presence and last seen under a direct room's name and in the room list", async () => {
  const { page, fake, done } = await open();
  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="7"]`);
  const sub = () => text(page, tid("typing-indicator"));
  await until(async () => (await sub()) === "online", "Bob is online");
  await fake(() => window.__tallyFake.setPresenceOf(7, "busy"));
  await until(async () => (await sub()) === "busy", "busy");
  await fake(() => window.__tallyFake.setPresenceOf(7, "away"));
  await until(async () => (await sub()) === "away", "away");

  // Times chosen in the page (UTC, en-US like the test browser), so only the wording is asserted.
  const day = 86_400_000;
  const today = await page.evaluate(() => {
    const d = new Date();
    d.setHours(14, 2, 0, 0);
    return d.getTime();
  });
  const older = today - 10 * day;
  const olderText = new Intl.DateTimeFormat("en-US", { timeZone: "UTC", day: "numeric", month: "short", ...(new Date(older).getUTCFullYear() !== new Date().getUTCFullYear() ? { year: "numeric" } : {}) }).format(older);
  for (const [at, want] of [
    [today, "last seen 2:02 PM"],
    [today - day, "last seen yesterday 2:02 PM"],
    [older, `last seen ${olderText}`],
  ]) {
    await fake(([ms]) => window.__tallyFake.setPresenceOf(7, "offline", ms), [at]);
    await until(async () => (await sub()) === want, `header says "${want}"`);
    const item = page.locator(`${tid("room-item")}[data-room="7"]`);
    ok((await item.textContent()).includes(want), `the room list says "${want}" to screen readers`);
    eq(await item.locator(".dot").getAttribute("title"), want, "and on the presence dot");
  }
  await fake(() => window.__tallyFake.setPresenceOf(7, "offline", null));
  await until(async () => (await sub()) === "offline", "offline when never seen");
  await page.click(`${tid("room-item")}[data-room="9"]`);
  await until(async () => (await sub()).startsWith("last seen "), "the seeded DM has a last seen");
  await shot(page, "chat-last-seen");

  // Offline, nobody's presence is known any more: "online" becomes what it was, and when.
  await page.click(`${tid("room-item")}[data-room="7"]`);
  await fake(() => window.__tallyFake.setPresenceOf(7, "online"));
  await until(async () => (await sub()) === "online", "online again");
  const dot = page.locator(`${tid("room-item")}[data-room="7"] ${tid("presence-dot")}`);
  eq(await dot.getAttribute("data-stale"), null, "a live dot while connected");
  await fake(() => window.__tallyFake.setConn({ state: "offline", since: Date.now() }));
  await until(async () => /^online as of \d/.test(await sub()), `"online as of <time>" while offline (got "${await sub()}")`);
  eq(await dot.getAttribute("data-stale"), "true", "the dot is hollow: last known");
  ok(!(await page.locator(`${tid("room-item")}[data-room="7"]`).textContent()).includes(", online,"), "the room list does not say online");
  await shot(page, "chat-presence-offline");
  await fake(() => window.__tallyFake.setConn({ state: "live", latency_ms: 20 }));
  await until(async () => (await sub()) === "online", "live again");
  await done();
});

// Phone layout, toast lanes and History's table room (tests/browser-layout.mjs).
layoutTests({ test, open, ok, eq, tid, shot, until });

// Sign-up, two-factor sign-in, Settings → Security and sign-out (tests/browser-account.mjs).
accountTests({ test, open, ok, eq, tid, shot, until, text });

// The app lock: Settings, the lock screen, wrong PINs, a locked start, phones (tests/browser-lock.mjs).
lockTests({ test, open, ok, eq, tid, shot, until, text });

// Payment requests: asking, paying after a confirmation, declining, cancelling (tests/browser-requests.mjs).
requestTests({ test, open, ok, eq, tid, shot, until, text });
conversationMoneyTests({ test, open, ok, eq, tid, shot, until });
splitTests({ test, open, eq, tid, shot, until });

// Files and pictures in conversations (tests/browser-files.mjs).
fileTests({ test, open, ok, eq, tid, shot, until, text });
a11yTests({ test, open, ok, tid });

// Languages: German, the override, and the mirrored pseudo-locale (tests/browser-i18n.mjs).
i18nTests({ test, open, ok, eq, tid, shot, until });

// ---------- typing latency ----------

/**
 * Types `n` characters into `sel` as input events and measures each with the performance API: from
 * dispatching the event to the next animation frame (`toFrame`, the figure the issue asks for) and to the
 * end of that frame's style, layout and paint (`toPainted`, a message posted from the rAF callback runs
 * after the frame is rendered). Each keystroke starts right after the previous frame was rendered, like a
 * key arriving at any time, so the figures include the wait for the next vsync (up to one 16.7 ms frame).
 * `busy` is the main-thread work alone: the input handlers (with Svelte's update and any layout they force)
 * plus the rendering of the next frame.
 */
async function typingLatency(page, sel, n = 50) {
  return page.evaluate(
    async ([sel, n]) => {
      const el = document.querySelector(sel);
      el.focus();
      const proto = el instanceof HTMLTextAreaElement ? HTMLTextAreaElement.prototype : HTMLInputElement.prototype;
      const setValue = Object.getOwnPropertyDescriptor(proto, "value").set;
      const afterRender = () =>
        new Promise((resolve) =>
          requestAnimationFrame((ts) => {
            const rafAt = performance.now();
            const ch = new MessageChannel();
            ch.port1.onmessage = () => resolve({ rafAt, paintedAt: performance.now(), ts });
            ch.port2.postMessage(0);
          }),
        );
      const words = "the quick brown fox jumps over the lazy dog ";
      const toFrame = [];
      const toPainted = [];
      const busy = [];
      await afterRender();
      await afterRender();
      for (let i = 0; i < n; i++) {
        const ch = words[i % words.length];
        performance.mark(`key-${i}`);
        const t0 = performance.now();
        setValue.call(el, el.value + ch);
        el.dispatchEvent(new InputEvent("input", { bubbles: true, inputType: "insertText", data: ch }));
        await Promise.resolve(); // Svelte flushes its updates in a microtask
        await Promise.resolve();
        const handled = performance.now();
        const f = await afterRender();
        performance.measure(`keystroke-${i}`, `key-${i}`);
        toFrame.push(f.rafAt - t0);
        toPainted.push(f.paintedAt - t0);
        busy.push(handled - t0 + (f.paintedAt - f.rafAt));
      }
      const stats = (xs) => {
        const s = [...xs].sort((a, b) => a - b);
        const at = (q) => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
        return { median: Math.round(at(0.5) * 10) / 10, p95: Math.round(at(0.95) * 10) / 10, max: Math.round(s[s.length - 1] * 10) / 10 };
      };
      return { toFrame: stats(toFrame), toPainted: stats(toPainted), busy: stats(busy) };
    },
    [sel, n],
  );
}

test("typing stays under a frame with 5,000 messages loaded: chat composer and global search", async () => {
  const { page, done } = await open({ roomMessages: 5000 });
  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="8"]`);
  await page.locator(tid("message-text"), { hasText: "Who's buying milk?" }).waitFor();
  const list = page.locator(tid("message-list"));
  const t0 = Date.now();
  await until(
    async () => {
      const count = await page.locator(tid("message")).count();
      if (count < 5000) await list.evaluate((el) => (el.scrollTop = 0));
      return count >= 5000;
    },
    "all 5,000 messages loaded by scrolling up",
    180_000,
  );
  const loadMs = Date.now() - t0;
  await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
  const report = (what, r) =>
    console.log(
      `    (${what}, 5,000 messages: input → next frame median ${r.toFrame.median} ms, p95 ${r.toFrame.p95} ms; → painted median ${r.toPainted.median} ms, p95 ${r.toPainted.p95} ms; main-thread work median ${r.busy.median} ms, p95 ${r.busy.p95} ms, max ${r.busy.max} ms)`,
    );
  const composer = await typingLatency(page, tid("chat-input"), 50);
  report("chat composer", composer);
  const search = await typingLatency(page, tid("global-search"), 50);
  report("global search", search);
  await page.keyboard.press("Escape");
  console.log(`    (loading 5,000 messages by scrolling up: ${loadMs} ms)`);
  await shot(page, "chat-5000");
  // A generous bound so CI noise does not flake: a frame is 16.7 ms, this fails only at three.
  for (const [what, r] of [["composer", composer], ["search", search]]) {
    ok(r.toPainted.p95 <= 50, `${what}: p95 input → painted ${r.toPainted.p95} ms is over 50 ms`);
  }
  await done();
});

test("History's search typed key by key: rows are never blanked, the charts are updated in place, no long task", async () => {
  const { page, done } = await open({ rows: 5000 }, { viewport: { width: 1100, height: 760 } });
  await page.click(tid("nav-history"));
  await page.locator(`${tid("history-table")} .row.filled`).first().waitFor();
  await page.locator(`${tid("balance-chart")} canvas`).waitFor();
  await page.locator(`${tid("spend-chart")} canvas`).waitFor();
  await page.evaluate(() => {
    // The charts' canvases, marked: a chart built again has a new one.
    for (const c of document.querySelectorAll(".chart canvas")) c.dataset.first = "1";
    window.__blank = 0;
    window.__long = [];
    const table = document.querySelector('[data-testid="history-table"]');
    new MutationObserver(() => {
      if (table.querySelector(".row:not(.filled)") && !document.querySelector('[data-testid="history-empty"]')) window.__blank++;
    }).observe(table, { subtree: true, childList: true, attributes: true, attributeFilter: ["class"] });
    new PerformanceObserver((l) => window.__long.push(...l.getEntries().map((e) => Math.round(e.duration)))).observe({ type: "longtask" });
  });
  await page.click(tid("history-search"));
  for (const ch of "concert tickets") {
    await page.keyboard.type(ch);
    await page.waitForTimeout(300); // the filter applies 250 ms after a key: each key's result is drawn
  }
  await until(async () => (await page.locator(tid("history-search")).inputValue()) === "concert tickets", "typed");
  const r = await page.evaluate(() => ({
    blank: window.__blank,
    long: window.__long,
    rebuilt: [...document.querySelectorAll(".chart canvas")].filter((c) => !c.dataset.first).length,
  }));
  console.log(`    (History's search, 15 keys over 5,000 rows: long tasks ${JSON.stringify(r.long)})`);
  eq(r.blank, 0, "the table never showed placeholder rows between keys");
  eq(r.rebuilt, 0, "the charts were given new data, not built again");
  // The long tasks are a measurement (printed above; the real WebView's: tests/e2e_typing.rs and
  // docs/BENCHMARKS.md), never a bound that a busy machine could fail.
  await done();
});

test("History over a slow cache (reads taking 700 ms, as over a million rows): a search typed key by key never queues a read per key, and ends on the last key's rows", async () => {
  const { page, fake, done } = await open({ rows: 5000, historyLagMs: 700 }, { viewport: { width: 1100, height: 760 } });
  await page.click(tid("nav-history"));
  await page.locator(`${tid("history-table")} .row.filled`).first().waitFor();
  await page.locator(`${tid("spend-chart")} canvas`).waitFor();
  await until(async () => (await fake(() => Object.values(window.__tallyFake.inFlight).every((n) => n === 0))), "the first reads answered");
  const before = await fake(() => window.__tallyFake.calls.filter((c) => c.cmd.endsWith("balance_history")).length);
  await fake(() => (window.__tallyFake.maxInFlight = {}));
  await page.click(tid("history-search"));
  for (const ch of "concert tickets") {
    await page.keyboard.type(ch);
    await page.waitForTimeout(300);
  }
  await until(
    async () => (await page.locator(`${tid("history-table")} .row.filled`).first().innerText()).includes("Concert tickets") && (await fake(() => Object.values(window.__tallyFake.inFlight).every((n) => n === 0))),
    "the last key's rows shown and nothing left on its way",
    10_000,
  );
  const f = await fake(() => ({ max: window.__tallyFake.maxInFlight, calls: window.__tallyFake.calls.map((c) => c.cmd) }));
  console.log(`    (most reads on their way at once while typing: ${JSON.stringify(f.max)})`);
  eq(f.calls.filter((c) => c.endsWith("balance_history")).length, before, "the balance line (currency and dates only) was not read again for a search");
  ok((f.max.spending_by_counterparty ?? 0) <= 1, `spending reads queued: ${f.max.spending_by_counterparty}`);
  ok((f.max.transactions ?? 0) <= 1, `page reads queued: ${f.max.transactions}`);
  const rows = await page.locator(`${tid("history-table")} .row.filled`).allInnerTexts();
  ok(rows.length > 0 && rows.every((r) => r.includes("Concert tickets")), "every row shown matches the whole search");
  await done();
});

test("chat composer grows with its text up to 160 px and back (field-sizing, and the contained mirror without it)", async () => {
  for (const fallback of [false, true]) {
    const { page, done } = await open();
    if (fallback) {
      // An engine without `field-sizing` (older WebKitGTK): the hidden mirror measures the text.
      await page.addInitScript(() => {
        const supports = CSS.supports.bind(CSS);
        CSS.supports = (...a) => (String(a[0]).startsWith("field-sizing") ? false : supports(...a));
      });
      await page.reload();
    }
    await page.click(tid("nav-chat"));
    await page.click(`${tid("room-item")}[data-room="7"]`);
    const input = page.locator(tid("chat-input"));
    await input.waitFor();
    const height = () => input.evaluate((el) => el.getBoundingClientRect().height);
    eq(await input.evaluate((el) => el.style.getPropertyValue("field-sizing")), fallback ? "" : "content", "the sizing in use");
    const one = await height();
    ok(one >= 36 && one <= 44, `${fallback ? "mirror" : "field-sizing"}: one line is one line high (${one})`);
    await input.fill("first line\nsecond line\nthird line");
    await until(async () => (await height()) > one + 30, "three lines make it taller");
    const three = await height();
    await input.fill(Array.from({ length: 20 }, (_, i) => `line ${i}`).join("\n"));
    await until(async () => Math.round(await height()) === 160, "capped at 160 px");
    eq(await input.evaluate((el) => el.scrollHeight > el.clientHeight && getComputedStyle(el).overflowY === "auto"), true, "scrolls inside beyond the cap");
    await input.fill("first line\nsecond line\nthird line");
    await until(async () => Math.abs((await height()) - three) < 1, "shrinks back with the text");
    await page.keyboard.press("Enter");
    await until(async () => Math.abs((await height()) - one) < 1, "one line again once sent");
    if (!fallback) await shot(page, "chat-composer");
    await done();
  }
});

// ---------- other people's text; sign-in and Send rough edges ----------

/** Whether `word` inside `sel` is laid out left to right, character by character (what a reader sees). */
async function readsLeftToRight(page, sel, word) {
  return page.locator(sel).first().evaluate((root, word) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const i = n.data.indexOf(word);
      if (i < 0) continue;
      const xs = [...word].map((_, k) => {
        const r = document.createRange();
        r.setStart(n, i + k);
        r.setEnd(n, i + k + 1);
        return r.getBoundingClientRect().x;
      });
      return xs.every((x, k) => k === 0 || x > xs[k - 1]);
    }
    return null; // the word is not there
  }, word);
}
const BIDI = /[\u202A-\u202E\u2066-\u2069]/;

test("other people's text: bidi controls in a name, a memo and a message cannot turn 'evil' into 'live'", async () => {
  const { page, fake, done } = await open();
  await page.locator(tid("balance-amount")).waitFor();
  await fake(() => {
    window.__tallyFake.setDisplayName("bob", "\u202Eevil");
    window.__tallyFake.incomingPayment("bob", 500, "\u202Eevil memo");
    window.__tallyFake.incomingMessage(7, "bob", "\u202Eevil message");
    window.__tallyFake.incomingMessage(8, "bob", "\u202Eevil in the group");
  });
  const row = page.locator(tid("feed-row")).first();
  await until(async () => (await row.innerText()).includes("memo"), "the payment is on top of the feed");
  for (const [sel, what] of [[`${tid("feed-row")} ${tid("feed-name")}`, "name"], [`${tid("feed-row")} ${tid("feed-memo")}`, "memo"]]) {
    eq(await readsLeftToRight(page, sel, "evil"), true, `feed ${what} reads "evil"`);
    ok(!BIDI.test(await text(page, sel)), `feed ${what} has no bidi controls`);
    eq(await page.locator(sel).first().evaluate((el) => el.tagName), "BDI", `feed ${what} is isolated`);
  }
  const toasts = (await page.locator(tid("toast")).allInnerTexts()).join(" | ");
  ok(toasts.includes("evil") && !BIDI.test(toasts), `toasts show the text without bidi controls (${toasts})`);
  await shot(page, "bidi-home");

  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="7"]`);
  await page.locator(tid("message-text"), { hasText: "message" }).last().waitFor();
  eq(await readsLeftToRight(page, `${tid("room-item")}[data-room="7"] ${tid("room-name")}`, "evil"), true, "room list name reads 'evil'");
  eq(await readsLeftToRight(page, tid("room-title"), "evil"), true, "room header reads 'evil'");
  eq(await readsLeftToRight(page, `${tid("room-item")}[data-room="7"] .rprev`, "evil"), true, "room preview reads 'evil'");
  eq((await text(page, `${tid("room-item")}[data-room="8"] .rprev`)).trim(), "evil: evil in the group", "group preview: sender, colon, space, text");
  const msg = page.locator(tid("message-text"), { hasText: "evil message" }).last();
  eq(await msg.evaluate((el) => el.getAttribute("dir")), "auto", "message text is a dir=auto isolate");
  eq(await readsLeftToRight(page, `${tid("message-text")} >> text=evil message`, "evil"), true, "message reads 'evil'");
  await shot(page, "bidi-chat");
  await page.click(`${tid("room-item")}[data-room="8"]`);
  const sender = page.locator(tid("message-sender"), { hasText: "evil" }).last();
  await sender.waitFor();
  eq(await readsLeftToRight(page, `${tid("message-sender")} >> text=evil`, "evil"), true, "group sender name reads 'evil'");
  await done();
});

test("one rule for text others control: hostile names in devices, 'Signed in as', contacts and memos show no bidi control on any view", async () => {
  const { page, fake, done } = await open();
  await page.locator(tid("balance-amount")).waitFor();
  await fake(() => {
    const f = window.__tallyFake;
    f.accounts.account("alice").devices[1].device = "Eve's phone\u202Eenohp";
    f.setDisplayName("alice", "Ann\u202Eevil");
    f.setDisplayName("bob", "\u2067evil\u2069 Bob");
    f.incomingPayment("bob", 500, "\u202Eevil memo");
    f.changed({ topic: "session" });
  });
  /** Every text node and accessible-name attribute in the page that still holds a bidi control. */
  const leaks = () =>
    page.evaluate(() => {
      const re = /[\u202A-\u202E\u2066-\u2069]/;
      const out = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) if (re.test(n.data)) out.push(`text in <${n.parentElement?.tagName.toLowerCase()}>: ${JSON.stringify(n.data)}`);
      for (const el of document.querySelectorAll("[aria-label],[title],[alt],[placeholder]"))
        for (const a of ["aria-label", "title", "alt", "placeholder"]) if (re.test(el.getAttribute(a) ?? "")) out.push(`${a} of <${el.tagName.toLowerCase()}>: ${JSON.stringify(el.getAttribute(a))}`);
      if (re.test(document.title)) out.push(`the window title: ${JSON.stringify(document.title)}`);
      return out;
    });
  const problems = [];
  for (const view of ["home", "history", "send", "chat", "notifications", "settings"]) {
    await page.click(tid(`nav-${view}`));
    await page.waitForTimeout(300);
    for (const l of await leaks()) problems.push(`${view}: ${l}`);
  }
  await page.locator(tid("device-name")).first().waitFor();
  const device = page.locator(tid("device-name"), { hasText: "Eve" });
  eq(await readsLeftToRight(page, `${tid("device-name")} >> text=Eve`, "phone"), true, "the device name reads as typed, not 'phone phone'");
  eq(await device.evaluate((el) => el.tagName), "BDI", "the device name is isolated");
  eq(await readsLeftToRight(page, tid("signed-in-as"), "evil"), true, "'Signed in as' reads the display name as typed");
  ok((await text(page, tid("signed-in-as"))).includes("@alice"), "and the username after it");
  ok(problems.length === 0, `bidi controls shown:\n  ${problems.join("\n  ")}`);
  await done();
});

test("sign-in: one error at a time, cleared on change; wrong password cleared and focused; title; last server and username kept after sign-out", async () => {
  const { page, done } = await open({ signedIn: false });
  await page.locator(tid("signin-username")).waitFor();
  eq(await page.title(), "Tally — Sign in", "the window title says Sign in");
  await page.fill(tid("signin-server"), "localhost:8787");
  await page.fill(tid("signin-username"), "alice");
  await page.fill(tid("signin-password"), "tally-demo");
  await page.click(tid("signin-submit"));
  await until(async () => (await text(page, tid("signin-error"))).includes("Enter the server address"), "server error");
  ok(await page.locator(tid("signin-server")).evaluate((el) => el === document.activeElement), "the server field has the focus");
  await page.fill(tid("signin-server"), "http://localhost:8787");
  eq(await page.locator(tid("signin-error")).count(), 0, "fixing the address clears the error");
  await page.fill(tid("signin-password"), "wrong");
  await page.click(tid("signin-submit"));
  await until(async () => (await text(page, tid("signin-error"))).includes("Wrong username or password"), "wrong password");
  eq(await page.locator('[role="alert"]').count(), 1, "one error at a time");
  eq(await page.inputValue(tid("signin-password")), "", "the password is cleared");
  ok(await page.locator(tid("signin-password")).evaluate((el) => el === document.activeElement), "and has the focus");
  await shot(page, "signin-wrong-password");
  await page.keyboard.type("tally-demo");
  eq(await page.locator(tid("signin-error")).count(), 0, "typing again clears the error");
  await page.keyboard.press("Enter");
  await page.locator(tid("balance-amount")).waitFor();
  await until(async () => (await page.title()).endsWith("Tally — Home"), "the title follows the view");
  await page.click(tid("nav-settings"));
  await page.click(tid("sign-out"));
  await page.click(tid("sign-out-confirm"));
  await page.locator(tid("signin-username")).waitFor();
  eq(await page.inputValue(tid("signin-server")), "http://localhost:8787", "the last server is kept after sign-out");
  eq(await page.inputValue(tid("signin-username")), "alice", "and the last username");
  eq(await page.inputValue(tid("signin-password")), "", "never the password");
  ok(await page.locator(tid("signin-password")).evaluate((el) => el === document.activeElement), "the cursor waits in the password");
  eq(await page.title(), "Tally — Sign in", "Sign in again in the title");
  await done();
});

test("send: paying yourself is not offered; the amount shows thousands separators as you type, with the limits", async () => {
  const { page, done } = await open({ limits: { single_max: 10_000_000, daily_max: 50_000_000 } });
  await page.click(tid("nav-send"));
  await page.fill(tid("send-recipient-search"), "Alice");
  await page.locator(tid("send-self")).waitFor();
  ok((await text(page, tid("send-self"))).includes("can't send money to yourself"), "a clear message for one's own username");
  eq(await page.getByRole("button", { name: /Pay “alice”/ }).count(), 0, "no 'Pay alice' row");
  eq(await page.locator(`${tid("send-recipient")}[data-username="alice"]`).count(), 0, "not among the contacts");
  await shot(page, "send-self");
  await page.fill(tid("send-recipient-search"), "");
  await page.click(`${tid("send-recipient")}[data-username="bob"]`);
  const amount = page.locator(tid("send-amount"));
  await amount.click();
  await page.keyboard.type("1234567.8");
  eq(await amount.inputValue(), "1,234,567.8", "grouped as typed");
  // Edit in the middle: the cursor stays after the digit typed.
  await amount.evaluate((el) => el.setSelectionRange(1, 1)); // after the "1"
  await page.keyboard.type("9");
  eq(await amount.inputValue(), "19,234,567.8", "regrouped after an insertion");
  eq(await amount.evaluate((el) => el.selectionStart), 2, "the cursor is after the 9");
  await page.keyboard.press("End");
  for (let i = 0; i < 12; i++) await page.keyboard.press("Backspace");
  eq(await amount.inputValue(), "", "backspace through the separators empties it");
  await page.keyboard.type("2500");
  eq(await amount.inputValue(), "2,500", "2,500");
  ok((await text(page, tid("send-limits"))).startsWith("Up to $100,000.00 per payment"), "the limits are still shown");
  await shot(page, "send-amount-grouped");
  await page.click(tid("send-continue"));
  await page.locator(tid("send-review")).waitFor();
  ok((await text(page, tid("send-review"))).includes("$2,500.00"), "review reads the grouped amount");
  await done();
});

test("chat opens the room open last time, also after a restart", async () => {
  const { page, done } = await open();
  await page.click(tid("nav-chat"));
  await until(async () => (await page.locator(`${tid("room-item")}[aria-current="true"]`).getAttribute("data-room")) === "7", "the newest room at first");
  await page.click(`${tid("room-item")}[data-room="9"]`);
  await page.click(tid("nav-home"));
  await page.click(tid("nav-chat"));
  await until(async () => (await page.locator(`${tid("room-item")}[aria-current="true"]`).getAttribute("data-room")) === "9", "the room open last");
  await page.reload();
  await page.click(tid("nav-chat"));
  await until(async () => (await page.locator(`${tid("room-item")}[aria-current="true"]`).getAttribute("data-room")) === "9", "still after a restart");
  await done();
});

test("chat: a group's people — add someone (refused offline with a reason), the admin renames it and removes someone, a member may not, leave with a confirm (Cancel focused)", async () => {
  const { page, fake, done } = await open();
  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="8"]`);
  await page.locator(tid("room-title"), { hasText: "Flatmates" }).waitFor();
  await page.click(tid("room-members"));
  const dialog = page.locator(tid("members-dialog"));
  await dialog.waitFor();
  eq((await dialog.locator(tid("member")).evaluateAll((els) => els.map((e) => e.dataset.username))).join(","), "alice,bob,carol", "members, me first");
  eq(await dialog.locator(tid("member-pick")).count(), 2, "dave and erin can be added");
  eq(await page.locator(tid("members-add")).isDisabled(), true, "nothing picked: Add is off");
  // Offline: the hub is needed; nothing is added and the dialog says why.
  await fake(() => window.__tallyFake.setConn({ state: "offline", since: Date.now() }));
  await dialog.locator(`${tid("member-pick")}[value="dave"]`).check();
  await page.click(tid("members-add"));
  await dialog.locator(tid("members-error")).waitFor();
  ok((await text(page, tid("members-error"))).toLowerCase().includes("offline"), "says offline");
  await fake(() => window.__tallyFake.setConn({ state: "live", latency_ms: 20 }));
  await page.click(tid("members-add"));
  await until(async () => (await dialog.locator(tid("member")).count()) === 4, "dave listed as a member");
  eq(await dialog.locator(tid("member-pick")).count(), 1, "only erin left to add");
  ok((await text(page, tid("typing-indicator"))).includes("4"), "the header counts four");
  eq((await fake(() => window.__tallyFake.calls.filter((c) => c.cmd.endsWith("invite_member")).map((c) => c.args.username))).join(","), "dave,dave", "one refused offline, one sent");
  // I created it: I am its admin (marked), and I may rename it and remove people.
  eq(await dialog.locator(`${tid("member")}[data-username="alice"] ${tid("member-admin")}`).count(), 1, "the admin is marked");
  eq(await dialog.locator(tid("member-remove")).count(), 3, "a Remove for everyone but me");
  eq(await page.locator(tid("room-rename-save")).isDisabled(), true, "the name unchanged: Save is off");
  await page.fill(tid("room-rename"), "  Flat 4B  ");
  await page.click(tid("room-rename-save"));
  await page.locator(tid("room-title"), { hasText: "Flat 4B" }).waitFor();
  ok((await page.locator(`${tid("room-item")}[data-room="8"]`).innerText()).includes("Flat 4B"), "the list has the new name");
  await dialog.locator(`${tid("member")}[data-username="dave"] ${tid("member-remove")}`).click();
  await page.locator(tid("remove-dialog")).waitFor();
  ok(await page.locator(`${tid("remove-dialog")} button:focus`).evaluate((b) => !b.classList.contains("btn-destructive")), "Remove's confirm: Cancel has the focus");
  await page.click(tid("remove-confirm"));
  await until(async () => (await dialog.locator(tid("member")).count()) === 3, "dave removed");
  eq(await dialog.locator(`${tid("member-pick")}[value="dave"]`).count(), 1, "dave can be added again");
  await shot(page, "chat-members");
  // Someone else's admin role: no rename, no Remove.
  await page.click(`${tid("members-dialog")} [aria-label="Close"]`);
  await fake(() => {
    window.__tallyFake.rooms.find((r) => r.room.id === 8).room.admins = [2];
    window.__tallyFake.changed({ topic: "rooms" });
  });
  await page.click(tid("room-members"));
  await dialog.waitFor();
  await dialog.locator(`${tid("member")}[data-username="bob"] ${tid("member-admin")}`).waitFor();
  eq(await dialog.locator(tid("member-remove")).count(), 0, "not an admin: no Remove");
  eq(await page.locator(tid("room-rename")).count(), 0, "not an admin: no rename");
  // Leave: a confirm whose Cancel has the focus; then the room is out of the list.
  await page.click(tid("room-leave"));
  await page.locator(tid("leave-dialog")).waitFor();
  ok(await page.locator(`${tid("leave-dialog")} button:focus`).evaluate((b) => !b.classList.contains("btn-destructive")), "Cancel has the focus");
  await page.click(tid("leave-confirm"));
  await until(async () => (await page.locator(`${tid("room-item")}[data-room="8"]`).count()) === 0, "Flatmates left the list");
  eq(await page.locator(tid("leave-dialog")).count(), 0, "the dialogs closed");
  ok(!(await page.locator(tid("room-title")).allInnerTexts()).includes("Flatmates"), "its pane closed");
  await done();
});

test("chat: @ offers the room's members — arrows and Enter or Tab take one, a click too, Esc closes, an e-mail is not a mention; sent, it is highlighted", async () => {
  const { page, fake, done } = await open();
  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="8"]`);
  await page.locator(tid("room-title"), { hasText: "Flatmates" }).waitFor();
  const input = page.locator(tid("chat-input"));
  const options = () => page.locator(tid("mention-option")).evaluateAll((els) => els.map((e) => e.dataset.username));
  await input.click();
  await page.keyboard.type("thanks @");
  await page.locator(tid("mention-list")).waitFor();
  eq((await options()).join(","), "bob,carol", "every member but me");
  await shot(page, "chat-mention");
  eq(await input.getAttribute("aria-activedescendant"), await page.locator(tid("mention-option")).first().getAttribute("id"), "the first is active");
  await page.keyboard.type("c");
  eq((await options()).join(","), "carol", "narrowed by what follows the @");
  await page.keyboard.press("Backspace");
  await page.keyboard.press("ArrowDown");
  eq(await page.locator(`${tid("mention-option")}[aria-selected="true"]`).getAttribute("data-username"), "carol", "ArrowDown moves");
  await page.keyboard.press("Enter");
  eq(await input.inputValue(), "thanks @carol ", "Enter takes it (and does not send)");
  eq(await page.locator(tid("mention-list")).count(), 0, "the list closes");
  await page.keyboard.type("and @b");
  await page.keyboard.press("Tab");
  eq(await input.inputValue(), "thanks @carol and @bob ", "Tab takes it");
  await page.keyboard.type("@");
  await page.keyboard.press("Escape");
  eq(await page.locator(tid("mention-list")).count(), 0, "Esc closes the list");
  await page.keyboard.press("Backspace");
  await page.keyboard.type("mail me@bob");
  eq(await page.locator(tid("mention-list")).count(), 0, "an e-mail address is not a mention");
  await input.fill("");
  await page.keyboard.type("hey @ca");
  await page.locator(`${tid("mention-option")}[data-username="carol"]`).click();
  eq(await input.inputValue(), "hey @carol ", "a click takes it");
  ok(await input.evaluate((el) => document.activeElement === el), "the composer keeps the focus");
  await page.keyboard.type("the rent?");
  await page.keyboard.press("Enter");
  const last = page.locator(tid("message-text")).last();
  await until(async () => (await last.innerText()) === "hey @carol the rent?", "sent");
  eq(await last.locator("mark.mention").innerText(), "@carol", "the mention is highlighted");
  eq((await fake(() => window.__tallyFake.calls.filter((c) => c.cmd.endsWith("send_message")).map((c) => c.args.text))).join("|"), "hey @carol the rent?", "only the finished message was sent");
  await done();
});

test("message a person from a payment's details or a group's people: their direct room, opened from the cache (offline too) or made on the hub", async () => {
  const { page, fake, done } = await open();
  const openDetailWith = async (name) => {
    await page.click(tid("nav-history"));
    await page.fill(tid("history-search"), name);
    await page.locator(`${tid("history-row")}`, { hasText: name }).first().waitFor();
    await page.locator(`${tid("history-row")} .open`, { hasText: name }).first().click();
    await page.locator(tid("detail-dialog")).waitFor();
  };
  const creates = () => fake(() => window.__tallyFake.calls.filter((c) => c.cmd.endsWith("create_room")).length);
  // Bob: the direct room there is, no new one; offline too.
  await fake(() => window.__tallyFake.setConn({ state: "offline", since: Date.now() }));
  await openDetailWith("Bob Brown");
  eq((await text(page, tid("detail-message"))).trim(), "Message Bob", "named by first name");
  await page.click(tid("detail-message"));
  await page.locator(tid("room-title"), { hasText: "Bob Brown" }).waitFor();
  eq(await page.locator(tid("detail-dialog")).count(), 0, "the details closed");
  eq(await creates(), 0, "the existing room was opened");
  // Dave: none yet; offline it cannot be made, and it says so.
  await openDetailWith("Dave Diaz");
  await page.click(tid("detail-message"));
  await page.locator(".toast", { hasText: "Couldn't start the conversation" }).waitFor();
  eq(await page.locator(tid("detail-dialog")).count(), 1, "the details stay open");
  await page.keyboard.press("Escape");
  await fake(() => window.__tallyFake.setConn({ state: "live", latency_ms: 20 }));
  await openDetailWith("Dave Diaz");
  await page.click(tid("detail-message"));
  await page.locator(tid("room-title"), { hasText: "Dave Diaz" }).waitFor();
  eq(await creates(), 2, "made on the hub once live (one refused offline)");
  // From a group's people: Carol's direct room.
  await page.click(`${tid("room-item")}[data-room="8"]`);
  await page.click(tid("room-members"));
  await page.locator(`${tid("member")}[data-username="carol"] ${tid("member-message")}`).click();
  await page.locator(tid("room-title"), { hasText: "Carol Chen" }).waitFor();
  eq(await page.locator(tid("members-dialog")).count(), 0, "the people dialog closed");
  await done();
});

test("chat: mute and pin a conversation — the list marks them, pinned goes first; offline it says why and nothing changes", async () => {
  const { page, fake, done } = await open();
  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="7"]`);
  await page.locator(tid("room-title"), { hasText: "Bob Brown" }).waitFor();
  const order = () => page.locator(tid("room-item")).evaluateAll((els) => els.map((e) => e.dataset.room));
  await page.click(tid("room-mute"));
  await page.locator(`${tid("room-item")}[data-room="7"] ${tid("room-muted")}`).waitFor();
  eq(await page.locator(tid("room-mute")).getAttribute("aria-pressed"), "true", "the toggle says muted");
  eq((await fake(() => window.__tallyFake.calls.filter((c) => c.cmd.endsWith("set_room_prefs")).map((c) => [c.args.room, c.args.muted, c.args.pinned])))[0].join(","), "7,true,false", "muted, not pinned");
  // Pin the group (last in the list by activity) and it goes first.
  await page.click(`${tid("room-item")}[data-room="9"]`);
  await page.locator(tid("room-title"), { hasText: "Carol Chen" }).waitFor();
  ok((await order()).indexOf("9") > 0, "not first before pinning");
  await page.click(tid("room-pin"));
  await until(async () => (await order())[0] === "9", "the pinned room goes first");
  await page.locator(`${tid("room-item")}[data-room="9"] ${tid("room-pinned")}`).waitFor();
  await shot(page, "chat-muted-pinned");
  // Offline: the hub keeps these choices, so nothing changes and a toast says why.
  await fake(() => window.__tallyFake.setConn({ state: "offline", since: Date.now() }));
  await page.click(tid("room-pin"));
  await page.locator(".toast", { hasText: "Couldn't change this conversation" }).waitFor();
  eq((await order())[0], "9", "still pinned");
  eq(await page.locator(tid("room-pin")).getAttribute("aria-pressed"), "true", "still pressed");
  await done();
});

test("chat: a room opens at a 'New messages' line above the first unread message, and where all of it fits, at the bottom as before", async () => {
  const { page, fake, done } = await open();
  // 30 unread in the group: the line is far up, the room opens there, not at the bottom.
  await fake(() => {
    window.__tallyFake.rooms.find((r) => r.room.id === 8).unread = 30;
    window.__tallyFake.changed({ topic: "rooms" });
  });
  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="8"]`);
  const line = page.locator(tid("unread-divider"));
  await line.waitFor();
  const pos = await page.evaluate(() => {
    const list = document.querySelector('[data-testid="message-list"]');
    const l = document.querySelector('[data-testid="unread-divider"]');
    const next = l.nextElementSibling?.querySelector('[data-testid="message-text"]')?.textContent ?? l.parentElement.querySelector('[data-testid="unread-divider"] ~ * [data-testid="message-text"]')?.textContent;
    return { top: l.getBoundingClientRect().top - list.getBoundingClientRect().top, atBottom: list.scrollHeight - list.scrollTop - list.clientHeight < 4, next };
  });
  ok(pos.top >= 0 && pos.top < 60, `the line is at the top of the list (${pos.top} px)`);
  eq(pos.atBottom, false, "not scrolled to the bottom");
  const others = await fake(() => window.__tallyFake.rooms.find((r) => r.room.id === 8).messages.filter((m) => m.message.sender.id !== 1 && !m.message.deleted && m.message.seq > 0));
  eq(pos.next, others[others.length - 30].message.text, "above the 30th newest message from others");
  await shot(page, "chat-unread-line");
  // Bob's room (read when Chat opened it first): 2 new from him fit under the line; it opens at the bottom.
  await fake(() => {
    window.__tallyFake.rooms.find((r) => r.room.id === 7).unread = 2;
    window.__tallyFake.changed({ topic: "rooms" });
  });
  await page.locator(`${tid("room-item")}[data-room="7"] ${tid("room-unread")}`).waitFor();
  await page.click(`${tid("room-item")}[data-room="7"]`);
  await page.locator(tid("room-title"), { hasText: "Bob Brown" }).waitFor();
  await line.waitFor();
  ok(await page.evaluate(() => { const l = document.querySelector('[data-testid="message-list"]'); return l.scrollHeight - l.scrollTop - l.clientHeight < 4; }), "at the bottom");
  // Opened again, read now: no line.
  await page.click(`${tid("room-item")}[data-room="9"]`);
  await page.click(`${tid("room-item")}[data-room="7"]`);
  await page.locator(tid("room-title"), { hasText: "Bob Brown" }).waitFor();
  await page.locator(tid("message-text")).first().waitFor();
  eq(await line.count(), 0, "no line once read");
  await done();
});

test("chat: search in a conversation — results from its messages, a click brings an old one (not loaded yet) into view, highlighted; Esc closes", async () => {
  const { page, fake, done } = await open();
  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="8"]`);
  await page.locator(tid("room-title"), { hasText: "Flatmates" }).waitFor();
  await page.locator(tid("message-text"), { hasText: "Who's buying milk?" }).waitFor();
  eq(await page.locator(tid("message-text"), { hasText: /^Flat chat message 12$/ }).count(), 0, "message 12 is not loaded yet");
  await page.click(tid("room-search-toggle"));
  await page.keyboard.type("message 12");
  const results = page.locator(tid("room-search-result"));
  await results.first().waitFor();
  const texts = await results.allInnerTexts();
  ok(texts.length > 0 && texts.every((x) => x.includes("message 12")), `only matching messages: ${texts.join(" | ")}`);
  eq((await fake(() => window.__tallyFake.calls.filter((c) => c.cmd.endsWith("search_room")).map((c) => c.args.room))).at(-1), 8, "searched in this room");
  await results.filter({ hasText: /message 12$/ }).first().click();
  const target = page.locator(`${tid("message-text")}`, { hasText: /^Flat chat message 12$/ });
  await target.waitFor();
  await until(async () => {
    const r = await target.boundingBox();
    const l = await page.locator(tid("message-list")).boundingBox();
    return r && l && r.y > l.y && r.y + r.height < l.y + l.height;
  }, "message 12 in view");
  eq(await results.count(), 0, "the results step aside once one is picked");
  await shot(page, "chat-search-jump");
  await page.click(tid("room-search"));
  await results.first().waitFor(); // back when the field is used
  await page.keyboard.press("Escape");
  eq(await page.locator(tid("room-search")).count(), 0, "Esc closes the search");
  await page.click(tid("room-search-toggle"));
  await page.keyboard.type("zzzz nothing");
  await page.locator(tid("room-search-none")).waitFor();
  await done();
});

test("chat: Delete's confirm is a destructive button, Cancel has the focus", async () => {
  const { page, done } = await open();
  await page.click(tid("nav-chat"));
  await page.click(`${tid("room-item")}[data-room="7"]`);
  const mine = page.locator(`${tid("message")}.mine`).last();
  await mine.hover();
  await mine.locator(tid("message-delete")).click();
  const confirm = page.locator(tid("delete-confirm"));
  await confirm.waitFor();
  ok((await confirm.getAttribute("class")).includes("btn-destructive"), "styled destructive");
  ok(!(await confirm.getAttribute("class")).includes("btn-primary"), "not as a primary action");
  eq(await confirm.evaluate((el) => getComputedStyle(el).backgroundColor), "rgb(180, 35, 24)", "red");
  eq(await page.evaluate(() => document.activeElement?.textContent?.trim()), "Cancel", "Enter does not delete by accident");
  await shot(page, "chat-delete-confirm");
  await confirm.click();
  await page.locator(".bubble.deleted").nth(1).waitFor();
  await done();
});

test("home offline: the balance says what is left after queued payments", async () => {
  const { page, fake, done } = await open({ conn: { state: "offline", since: Date.UTC(2026, 0, 5, 9, 12) } });
  const start = await fake(() => window.__tallyFake.available);
  eq(await page.locator(tid("balance-after-queued")).count(), 0, "nothing queued: no line");
  await page.click(tid("nav-send"));
  for (const [who, amt] of [["carol", "20"], ["dave", "5.50"]]) {
    if (who === "dave") await page.getByRole("button", { name: "Send another" }).click();
    await page.click(`${tid("send-recipient")}[data-username="${who}"]`);
    await page.fill(tid("send-amount"), amt);
    await page.click(tid("send-continue"));
    await page.click(tid("send-confirm"));
    await until(async () => (await page.locator(tid("send-result")).getAttribute("data-phase")) === "queued", "queued");
  }
  await page.click(tid("nav-home"));
  const line = page.locator(tid("balance-after-queued"));
  await line.waitFor();
  eq((await line.innerText()).trim(), `${usd(start - 2550)} available after queued payments`, "available minus both queued payments");
  eq((await text(page, tid("balance-amount"))).trim(), usd(start), "the balance itself is the last one the hub reported");
  await shot(page, "home-offline-after-queued");
  await fake(() => window.__tallyFake.setConn({ state: "live", latency_ms: 20 }));
  await until(async () => (await line.count()) === 0, "gone once they went out");
  await done();
});

test("chat: loading older messages keeps the message in view in place (with and without scroll anchoring)", async () => {
  for (const anchoring of [true, false]) {
    const { page, done } = await open({ roomMessages: 400 });
    // WebKitGTK has no scroll anchoring: the pane must hold the position itself.
    if (!anchoring) await page.addStyleTag({ content: '[data-testid="message-list"] { overflow-anchor: none; }' });
    await page.click(tid("nav-chat"));
    await page.click(`${tid("room-item")}[data-room="8"]`);
    await page.locator(tid("message-text"), { hasText: "Who's buying milk?" }).waitFor();
    const shifts = await page.locator(tid("message-list")).evaluate(async (el) => {
      const out = [];
      for (let k = 0; k < 3; k++) {
        const count = el.querySelectorAll('[data-testid="message"]').length;
        el.scrollTop = 0;
        const first = el.querySelector('[data-testid="message"]');
        const y0 = first.getBoundingClientRect().top;
        const end = Date.now() + 5000;
        while (el.querySelectorAll('[data-testid="message"]').length === count && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 300));
        out.push(Math.round(first.getBoundingClientRect().top - y0));
      }
      return out;
    });
    ok(shifts.every((d) => Math.abs(d) <= 1), `${anchoring ? "anchoring" : "no anchoring"}: the message stays put (shifts ${shifts.join(", ")} px)`);
    await done();
  }
});

// ---------- run ----------

/** What a failed test left on screen (test-results/failed-*.png), then its pages closed. */
async function closeLeftOpen(name) {
  let n = 0;
  for (const { page, context } of live) {
    const slug = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 60);
    await page.screenshot({ path: join(OUT, `failed-${slug}-${n++}.png`) }).catch(() => {});
    await context.close().catch(() => {});
  }
  if (n) console.log(`    (screenshot${n > 1 ? "s" : ""} of what it left: test-results/failed-*.png)`);
  live.clear();
}

let passed = 0;
let failed = 0;
const failures = [];
for (const t of tests) {
  if (only && !t.name.includes(only)) continue;
  const started = Date.now();
  try {
    await t.fn();
    passed++;
    console.log(`✓ ${t.name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    const line = `✗ ${t.name}\n    ${e instanceof Error ? e.message : e}`;
    failures.push(line);
    console.log(line);
    await closeLeftOpen(t.name);
  }
}
await browser.close();
server.close();
// Failures again at the end, where a log's tail (CI keeps only the tail) shows them.
if (failures.length) console.log(`\nFailed:\n${failures.join("\n")}\n`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
