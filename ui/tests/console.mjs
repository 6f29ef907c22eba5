#!/usr/bin/env node
// The operators' console in headless Chromium against a real hub (the built tally-hub serving
// ui/dist-console at /console/, on a free loopback port, a throwaway data directory). Operators are made
// through the API as a team would (the admin token makes the first admin, who makes the others) and sign
// in through the console with password and a TOTP code. A user's socket, opened in its own page, is
// the "connected client": it asks for a withdrawal and watches its balance while finance works.
// Usage: node tests/console.mjs. Prints "N passed, N failed"; exits non-zero on failure.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const UI = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const HUB = join(process.env.CARGO_TARGET_DIR ?? join(UI, "..", "target"), "debug", "tally-hub");
const CONSOLE = join(UI, "dist-console");
const OUT = join(UI, "test-results");
const PW = "operator pass phrase 42";

if (!existsSync(HUB)) throw new Error(`${HUB} is missing: build the workspace first (make test builds it)`);
if (!existsSync(join(CONSOLE, "index.html"))) throw new Error("ui/dist-console is missing: npm run build");

let failures = 0;
function ok(cond, msg) {
  if (!cond) throw new Error(`assertion failed: ${msg}`);
}

/** RFC 6238: the 6-digit code for a base32 secret, `step` 30-second steps from now. */
function totp(secret, step = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000) + step));
  const h = createHmac("sha1", key).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

const freePort = () =>
  new Promise((res) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });

async function until(fn, msg, timeout = 10_000) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > end) throw new Error(`timed out: ${msg}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---------- a real hub ----------

const data = mkdtempSync(join(tmpdir(), "tally-console-"));
const port = await freePort();
const base = `http://127.0.0.1:${port}`;
const hub = spawn(HUB, ["--bind", `127.0.0.1:${port}`, "--data-dir", data, "--console-dir", CONSOLE, "--metrics-bind", "127.0.0.1:0", "--allowed-origins", `http://127.0.0.1:${port}`], { stdio: ["ignore", "ignore", "pipe"] });
let hubErr = "";
hub.stderr.on("data", (d) => (hubErr = (hubErr + d).slice(-4000)));
await until(async () => (await fetch(`${base}/readyz`).catch(() => null))?.ok, `the hub on ${base}\n${hubErr}`, 20_000);
const admin = readFileSync(join(data, "admin.token"), "utf8").trim();

async function api(path, body, token) {
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`${base}${path}`, body === undefined ? { headers } : { method: "POST", headers, body: JSON.stringify(body) });
  const v = await r.json().catch(() => null);
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(v)}`);
  return v;
}

async function makeOperator(by, username, role) {
  const v = await api("/v1/admin/operators", { username, password: PW, role }, by);
  return v.totp_secret;
}
const rootSecret = await makeOperator(admin, "root", "admin");
const root = (await api("/v1/operators/sign-in", { username: "root", password: PW, totp: totp(rootSecret) })).token;
const finSecret = await makeOperator(root, "fin", "finance");
const sueSecret = await makeOperator(root, "sue", "support");
// A second finance operator: each code works once, and the hub takes one step of skew, so one operator
// signs in at most twice in a 30 s window.
const tessSecret = await makeOperator(root, "tess", "finance");
const audreySecret = await makeOperator(root, "audrey", "auditor");
const adaSecret = await makeOperator(root, "ada", "admin");
await api("/v1/admin/tenants", { name: "default", registration: "open" }, root);
const alice = await api("/v1/auth/register", { username: "alice", password: "correct horse battery", display_name: "Alice Adams" });
const aliceToken = alice.access_token ?? alice.access;
ok(aliceToken, `alice's token in ${JSON.stringify(Object.keys(alice))}`);
await api("/v1/admin/deposit", { username: "alice", amount: { minor: 10_000, currency: "USD" }, memo: "Salary" }, root);
const reference = (await api("/v1/account/deposit-info", undefined, aliceToken)).reference;

// ---------- Chromium ----------

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});

/** Each code works once per operator: a second sign-in in the same 30 s takes the next step's code
 * (the hub accepts one step of skew). */
const lastStep = new Map([["root", 0]]); // root signed in through the API with this step's code
async function consolePage(username, secret) {
  const step = (lastStep.get(username) ?? -1) + 1;
  lastStep.set(username, step);
  const context = await browser.newContext({ viewport: { width: 1100, height: 760 }, locale: "en-US", timezoneId: "UTC" });
  const page = await context.newPage();
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${base}/console/`);
  await page.fill('[data-testid="console-username"]', username);
  await page.fill('[data-testid="console-password"]', PW);
  await page.fill('[data-testid="console-code"]', totp(secret, step));
  await page.click('[data-testid="console-sign-in"]');
  await page.locator('[data-testid="console-who"]').waitFor();
  const done = async () => {
    const csp = await page.evaluate(() => window.__csp);
    await context.close();
    ok(csp.length === 0, `CSP violations: ${csp.join("; ")}`);
    ok(problems.length === 0, `page errors: ${problems.join(" | ")}`);
  };
  return { page, done };
}

/** Alice's app, reduced to its socket: hello, her balance channel, and what arrives on it (opened from a
 * page of the hub's origin, which this hub is told to allow, as a browser client of the hub would be). */
async function aliceSocket() {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/readyz`);
  await page.evaluate(
    ({ url, token, user }) =>
      new Promise((res, rej) => {
        const ws = new WebSocket(url);
        window.__frames = [];
        window.__ws = ws;
        ws.onopen = () => ws.send(JSON.stringify({ type: "hello", v: 1, token, client: "console-test/1", subscriptions: [{ channel: `balance:${user}` }, { channel: `user:${user}` }] }));
        ws.onmessage = (m) => {
          const f = JSON.parse(m.data);
          window.__frames.push(f);
          if (f.type === "welcome") res();
        };
        ws.onerror = () => rej(new Error("socket error"));
      }),
    { url: `${base.replace("http", "ws")}/v1/ws`, token: aliceToken, user: alice.user.id },
  );
  const available = () => page.evaluate(() => window.__frames.filter((f) => f.type === "event" && f.data.kind === "balance").map((f) => f.data.balance.available).at(-1));
  const withdraw = (minor, destination) =>
    page.evaluate(
      ({ minor, destination }) =>
        new Promise((res) => {
          const id = 77;
          window.__ws.send(JSON.stringify({ type: "withdrawal_create", id, idempotency_key: "w-77", amount: { minor, currency: "USD" }, destination }));
          const t = setInterval(() => {
            const a = window.__frames.find((f) => f.id === id);
            if (a) {
              clearInterval(t);
              res(a);
            }
          }, 20);
        }),
      { minor, destination },
    );
  const send = (frame) =>
    page.evaluate(
      (frame) =>
        new Promise((res) => {
          window.__ws.send(JSON.stringify(frame));
          const t = setInterval(() => {
            const a = window.__frames.find((f) => f.id === frame.id && (f.type === "ack" || f.type === "error"));
            if (a) {
              clearInterval(t);
              res(a);
            }
          }, 20);
        }),
      frame,
    );
  const limits = () => page.evaluate(() => window.__frames.filter((f) => f.type === "event" && f.data.kind === "limits").map((f) => f.data.limits).at(-1));
  return { available, limits, withdraw, send, close: () => context.close() };
}

const tests = [
  ["finance signs in with a TOTP code, credits a deposit by reference and alice's balance moves live", async () => {
    const socket = await aliceSocket();
    const { page, done } = await consolePage("fin", finSecret);
    ok((await page.locator('[data-testid="console-who"]').innerText()).includes("fin · finance"), "who is signed in");
    await page.click('[data-testid="console-tab-deposit"]');
    await page.fill('[data-testid="deposit-who"]', reference.toLowerCase());
    await page.fill('[data-testid="deposit-amount"]', "50.00");
    await page.click('[data-testid="deposit-submit"]');
    await page.locator('[data-testid="deposit-done"]').waitFor();
    await until(async () => (await socket.available()) === 15_000, "alice's socket hears $150.00");
    // A typo in the reference is refused by its check digits, and nothing moves.
    const typo = reference.slice(0, 5) + (reference[5] === "7" ? "8" : "7") + reference.slice(6);
    await page.fill('[data-testid="deposit-who"]', typo);
    ok((await page.locator('[data-testid="deposit-amount"]').inputValue()) === "", "the amount is cleared after a credit");
    await page.fill('[data-testid="deposit-amount"]', "50.00");
    await page.click('[data-testid="deposit-submit"]');
    await until(async () => (await page.locator('[data-testid="console-error"]').innerText().catch(() => "")).includes("check digits"), "the typo named");
    await page.screenshot({ path: join(OUT, "console-deposit.png") });
    // It was $49.00: a correcting entry with the reason, heard on alice's socket too.
    await page.click('[data-testid="console-tab-adjust"]');
    await page.fill('[data-testid="adjust-user"]', "alice");
    await page.selectOption('[data-testid="adjust-direction"]', "out");
    await page.fill('[data-testid="adjust-amount"]', "1");
    await page.fill('[data-testid="adjust-reason"]', "The bank transfer was $49.00");
    await page.click('[data-testid="adjust-submit"]');
    await page.locator('[data-testid="adjust-done"]').waitFor();
    await until(async () => (await socket.available()) === 14_900, "alice's socket hears the correction");
    await page.fill('[data-testid="adjust-user"]', "alice");
    await page.selectOption('[data-testid="adjust-direction"]', "in");
    await page.fill('[data-testid="adjust-amount"]', "1");
    await page.fill('[data-testid="adjust-reason"]', "Put back: it was $50.00 after all");
    await page.click('[data-testid="adjust-submit"]');
    await until(async () => (await socket.available()) === 15_000, "and the correction of the correction");
    await socket.close();
    await done();
  }],
  ["a withdrawal alice asks for waits in the queue; finance pays it out", async () => {
    const socket = await aliceSocket();
    const ack = await socket.withdraw(2_500, "DE89 3704 0044 0532 0130 00");
    ok(ack.type === "ack" && ack.data.withdrawal.status === "pending", `held: ${JSON.stringify(ack)}`);
    const { page, done } = await consolePage("fin", finSecret);
    await page.click('[data-testid="console-tab-withdrawals"]');
    const row = page.locator('[data-testid="withdrawal-row"]', { hasText: "DE89 3704 0044 0532 0130 00" });
    await row.waitFor();
    ok((await row.innerText()).includes("$25.00") && (await row.innerText()).includes("@alice"), "amount and who");
    await page.screenshot({ path: join(OUT, "console-withdrawals.png") });
    await row.locator('[data-testid="withdrawal-approve"]').click();
    await page.locator('[data-testid="withdrawals-empty"]').waitFor();
    const left = await api("/v1/admin/withdrawals?status=completed", undefined, root);
    ok(left.withdrawals.length === 1 && left.withdrawals[0].user.username === "alice", "paid out");
    await socket.close();
    await done();
  }],
  ["a payment held by a compliance rule waits under review; an admin releases it and it completes", async () => {
    await api("/v1/admin/compliance-rules", { single_over: 5_000 }, root);
    await api("/v1/auth/register", { username: "bob", password: "correct horse battery", display_name: "Bob Brown" });
    const socket = await aliceSocket();
    const ack = await socket.send({ type: "transfer_create", id: 78, idempotency_key: "t-78", to: "bob", amount: { minor: 6_000, currency: "USD" }, memo: "Rent" });
    ok(ack.type === "ack" && ack.data.transfer.status === "review", `held: ${JSON.stringify(ack)}`);
    const { page, done } = await consolePage("root", rootSecret);
    await page.click('[data-testid="console-tab-reviews"]');
    const row = page.locator('[data-testid="review-row"]', { hasText: "@bob" });
    await row.waitFor();
    ok((await row.innerText()).includes("one transfer over"), "the rule that held it");
    await page.fill('[data-testid="review-note"]', "Rent to a known landlord");
    await row.locator('[data-testid="review-release"]').click();
    await page.locator('[data-testid="reviews-empty"]').waitFor();
    let n = 100;
    await until(async () => {
      const a = await socket.send({ type: "snapshot", id: n++, what: { kind: "open_transfers" } });
      return a.type === "ack" && a.data.transfers.length === 0;
    }, "released: the payment went through (no longer open)");
    ok((await socket.available()) === 15_000 - 2_500 - 6_000, "held once, moved once");
    await socket.close();
    await done();
  }],
  ["support may not credit a deposit: the console says why; support finds alice and reads her page", async () => {
    const { page, done } = await consolePage("sue", sueSecret);
    await page.click('[data-testid="console-tab-deposit"]');
    await page.fill('[data-testid="deposit-who"]', "alice");
    await page.fill('[data-testid="deposit-amount"]', "10");
    await page.click('[data-testid="deposit-submit"]');
    await until(async () => (await page.locator('[data-testid="console-error"]').innerText().catch(() => "")).includes("a support operator may not do this"), "refused by role");
    await page.click('[data-testid="console-tab-users"]');
    await page.fill('[data-testid="users-q"]', "ALI");
    await page.click('[data-testid="users-search"]');
    await page.locator('[data-testid="users-result"]', { hasText: "@alice" }).click();
    await page.locator('[data-testid="user-detail"]').waitFor();
    ok((await page.locator('[data-testid="user-kyc"]').innerText()).includes("Identity check: none"), "her level");
    ok((await page.locator('[data-testid="user-balances"]').innerText()).includes("available"), "her balances");
    ok((await page.locator('[data-testid="user-detail"]').innerText()).includes("DE89 3704 0044 0532 0130 00"), "her withdrawal in history");
    await page.screenshot({ path: join(OUT, "console-user.png") });
    await done();
  }],
  ["support acts on carol's page: her level, her account disabled and enabled, two-factor reset, a new password", async () => {
    const carol = await api("/v1/auth/register", { username: "carol", password: "correct horse battery", display_name: "Carol Chen" });
    const { page, done } = await consolePage("sue", sueSecret);
    await page.click('[data-testid="console-tab-users"]');
    await page.fill('[data-testid="users-q"]', "carol");
    await page.click('[data-testid="users-search"]');
    await page.locator('[data-testid="users-result"]', { hasText: "@carol" }).click();
    ok((await page.locator('[data-testid="user-limits-form"]').count()) === 0, "support is not offered finance's limits");
    await page.selectOption('[data-testid="user-kyc-level"]', "basic");
    await page.click('[data-testid="user-kyc-set"]');
    await until(async () => (await page.locator('[data-testid="user-kyc"]').innerText()).includes("Identity check: basic"), "her page shows basic");
    // Disabling asks twice, then she cannot sign in; enabling lets her again.
    await page.click('[data-testid="user-active"]');
    await page.click('[data-testid="user-active-confirm"]');
    await until(async () => (await page.locator('[data-testid="user-detail"] h3').innerText()).includes("disabled"), "shown disabled");
    const signIn = (password) => fetch(`${base}/v1/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: "carol", password }) }).then((r) => r.status);
    ok((await signIn("correct horse battery")) === 401, "a disabled account cannot sign in");
    await page.click('[data-testid="user-active"]');
    await page.click('[data-testid="user-active-confirm"]');
    await until(async () => !(await page.locator('[data-testid="user-detail"] h3').innerText()).includes("disabled"), "enabled again");
    ok((await signIn("correct horse battery")) === 200, "she signs in again");
    await page.click('[data-testid="user-2fa"]');
    await page.click('[data-testid="user-2fa-confirm"]');
    await until(async () => (await page.locator('[data-testid="user-action-done"]').innerText().catch(() => "")).includes("Two-factor is off"), "two-factor reset");
    await page.fill('[data-testid="user-password"]', "a brand new pass phrase 7");
    await page.click('[data-testid="user-password-set"]');
    await until(async () => (await page.locator('[data-testid="user-action-done"]').innerText().catch(() => "")).includes("new password"), "password set");
    ok((await signIn("a brand new pass phrase 7")) === 200 && (await signIn("correct horse battery")) === 401, "the new password, not the old");
    const seen = (await api(`/v1/admin/users/detail?username=carol`, undefined, root)).notifications.map((n) => n.title);
    for (const t of ["Your account was disabled", "Two-factor sign-in was reset", "Your password was reset"]) ok(seen.some((x) => x.startsWith(t.slice(0, 12))), `carol told: ${t} in ${JSON.stringify(seen)}`);
    ok(carol.user.username === "carol", "carol registered");
    await page.screenshot({ path: join(OUT, "console-support.png") });
    await done();
  }],
  ["finance lowers alice's limits on her page with a reason; her app hears them at once", async () => {
    const socket = await aliceSocket();
    const { page, done } = await consolePage("tess", tessSecret);
    await page.click('[data-testid="console-tab-users"]');
    await page.fill('[data-testid="users-q"]', "alice");
    await page.click('[data-testid="users-search"]');
    await page.locator('[data-testid="users-result"]', { hasText: "@alice" }).click();
    await page.fill('[data-testid="user-limit-single"]', "300");
    await page.fill('[data-testid="user-limit-daily"]', "1,000.00");
    ok(await page.locator('[data-testid="user-limit-set"]').isDisabled(), "no reason, no change");
    await page.fill('[data-testid="user-limit-reason"]', "Lowered while we check a dispute");
    await page.click('[data-testid="user-limit-set"]');
    await page.locator('[data-testid="user-action-done"]').waitFor();
    await until(async () => (await socket.limits())?.transfer_single_max === 30_000, "alice's app hears the new limits");
    ok((await socket.limits()).transfer_daily_max === 100_000, "and the daily one");
    await until(async () => (await page.locator('[data-testid="user-kyc"]').innerText()).includes("$300.00 per payment"), "her page shows them");
    await page.screenshot({ path: join(OUT, "console-limits.png") });
    await socket.close();
    await done();
  }],
  ["an auditor watches the hub live: the numbers, and a deposit arriving in the feed as finance credits it", async () => {
    const socket = await aliceSocket();
    const { page, done } = await consolePage("audrey", audreySecret);
    await until(async () => (await page.locator('[data-testid="live-state"]').innerText()) === "● Live", "the live socket is open");
    await until(async () => Number((await page.locator('[data-testid="live-connections"]').innerText().catch(() => "0")).replace(/\D/g, "")) >= 1, "alice's socket counted");
    ok((await page.locator(".uplot canvas").count()) >= 3, "three charts drawn");
    const lineCount = async (text) => page.locator('[data-testid="feed-line"]', { hasText: text }).count();
    ok((await lineCount("$100.00")) >= 1, "the first page holds alice's first deposit");
    await api("/v1/admin/deposit", { username: "alice", amount: { minor: 4_321, currency: "USD" }, memo: "Live one" }, root);
    await until(async () => (await lineCount("Live one")) === 1, "the new deposit in the feed without a reload");
    await until(async () => Number((await page.locator('[data-testid="live-transfers"]').innerText()).replace(/[^\d.]/g, "")) >= 0, "the transfers tile");
    await page.screenshot({ path: join(OUT, "console-live.png"), fullPage: true });
    // Filters: withdrawals only (alice's one), then a user who does not exist (said, the feed kept).
    await page.selectOption('[data-testid="feed-kind"]', "withdrawal");
    await page.click('[data-testid="feed-apply"]');
    await until(async () => (await page.locator('[data-testid="feed-line"]').count()) === 1 && (await lineCount("withdrawal")) === 1, "only the withdrawal");
    await page.selectOption('[data-testid="feed-kind"]', "");
    await page.fill('[data-testid="feed-user"]', "nobody");
    await page.click('[data-testid="feed-apply"]');
    await until(async () => (await page.locator('[data-testid="feed-refusal"]').innerText().catch(() => "")).includes("not found"), "an unknown user said");
    ok((await page.locator('[data-testid="feed-line"]').count()) === 1, "the feed kept its filter");
    // A phone-sized window: the desk still reads (the feed scrolls sideways inside its box).
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await page.screenshot({ path: join(OUT, "console-live-phone.png"), fullPage: true });
    ok(overflow <= 0, `no sideways scroll of the page at 390 px (${overflow} px)`);
    await socket.close();
    await done();
  }],
  ["finance publishes the deposit instructions alice reads; an admin sends an announcement after its preview", async () => {
    const fin = await consolePage("tess", tessSecret);
    await fin.page.click('[data-testid="console-tab-instructions"]');
    const instructions = "Bank transfer to Tally Ltd\nIBAN GB82 WEST 1234 5698 7654 32\nPut your reference in the payment note.";
    await fin.page.fill('[data-testid="instructions-text"]', instructions);
    await fin.page.click('[data-testid="instructions-save"]');
    await fin.page.locator('[data-testid="instructions-saved"]').waitFor();
    const info = await api("/v1/account/deposit-info", undefined, aliceToken);
    ok(info.instructions === instructions, `alice reads them: ${JSON.stringify(info)}`);
    await fin.done();

    const { page, done } = await consolePage("ada", adaSecret);
    await page.click('[data-testid="console-tab-broadcast"]');
    await page.fill('[data-testid="broadcast-title"]', "Maintenance tonight");
    await page.fill('[data-testid="broadcast-body"]', "Payments queue from 02:00 to 02:10 UTC.");
    await page.selectOption('[data-testid="broadcast-priority"]', "high");
    ok((await page.locator('[data-testid="broadcast-preview"]').innerText()).includes("Maintenance tonight"), "the preview before sending");
    await page.click('[data-testid="broadcast-send"]');
    await page.locator('[data-testid="broadcast-sent"]').waitFor();
    const told = (await api("/v1/admin/users/detail?username=alice", undefined, root)).notifications.map((n) => n.title);
    ok(told.includes("Maintenance tonight"), `alice has it: ${JSON.stringify(told)}`);
    await done();
  }],
  ["a wrong code is refused at sign-in", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${base}/console/`);
    await page.fill('[data-testid="console-username"]', "fin");
    await page.fill('[data-testid="console-password"]', PW);
    await page.fill('[data-testid="console-code"]', totp(finSecret) === "000000" ? "111111" : "000000");
    await page.click('[data-testid="console-sign-in"]');
    await page.locator('[data-testid="console-signin-error"]').waitFor();
    ok((await page.locator('[data-testid="console-who"]').count()) === 0, "not signed in");
    const headers = (await fetch(`${base}/console/`)).headers;
    ok((headers.get("content-security-policy") ?? "").includes("frame-ancestors 'none'"), "the console's CSP");
    await context.close();
  }],
];

let passed = 0;
try {
  for (const [name, fn] of tests) {
    const t0 = Date.now();
    try {
      await fn();
      passed++;
      console.log(`✓ ${name} (${Date.now() - t0} ms)`);
    } catch (e) {
      failures++;
      console.log(`✗ ${name}\n    ${String(e.stack ?? e).split("\n").slice(0, 4).join("\n    ")}`);
    }
  }
} finally {
  await browser.close();
  hub.kill("SIGTERM");
  rmSync(data, { recursive: true, force: true });
}
console.log(`${passed} passed, ${failures} failed`);
process.exit(failures ? 1 : 0);
