// Payment requests for tests/browser.mjs (#14, money in the conversation): asking from Home and from a
// person, validation, offline; the Requests card paying one after a confirmation, declining, cancelling,
// a notification opening its request; and the card on a phone. The fake's requests are
// tests/fake/requests.ts (`requests: true` seeds bob asking the user for $12.00 and the user asking carol
// for $5.00). Registered from browser.mjs with its harness.
import { overflowProblems } from "./overflow.mjs";

export function requestTests({ test, open, ok, eq, tid, shot, until, text }) {
  const row = (id) => `${tid("request-row")}[data-request="${id}"]`;
  const statusOf = (page, id) => page.locator(row(id)).getAttribute("data-status");

  test("requests: one asked of me is paid after a confirmation and followed to paid; mine is cancelled; a notification opens a new one, which is declined", async () => {
    const { page, fake, done } = await open({ requests: true });
    await page.locator(tid("requests")).waitFor();
    const [bobs, mine] = await fake(() => window.__tallyFake.requests.list.map((r) => r.id));
    ok((await text(page, row(bobs))).includes("Bob Brown asks you for"), "asked of me, by whom");
    ok((await text(page, row(bobs))).includes("$12.00") && (await text(page, row(bobs))).includes("Cinema 🎬"), "amount and note");
    ok((await text(page, row(bobs))).includes("expires in 3 days"), "its deadline");
    ok((await text(page, row(mine))).includes("You asked Carol Chen"), "asked by me");
    await shot(page, "requests-home");

    const before = await fake(() => window.__tallyFake.available);
    await page.click(`${row(bobs)} ${tid("request-pay")}`);
    ok((await text(page, row(bobs))).includes("Pay $12.00 to Bob Brown now?"), "paying asks first");
    eq(await fake(() => window.__tallyFake.available), before, "nothing moved before the confirmation");
    await page.click(`${row(bobs)} ${tid("request-confirm-pay")}`);
    await until(async () => (await statusOf(page, bobs)) === "paying", "paying while the transfer is on its way");
    await until(async () => (await page.locator(row(bobs)).count()) === 0, "paid: out of the open ones");
    eq(await fake((id) => window.__tallyFake.requests.list.find((r) => r.id === id).status, bobs), "paid", "the request is paid");
    eq(await fake(() => window.__tallyFake.available), before - 1_200, "one payment of $12.00");
    await page.click(tid("requests-past-toggle"));
    await until(async () => (await statusOf(page, bobs)) === "paid", "listed as paid under past");
    ok((await text(page, `${row(bobs)} ${tid("request-status")}`)) === "Paid", "says paid");

    await page.click(`${row(mine)} ${tid("request-cancel")}`);
    await until(async () => (await statusOf(page, mine)) === "cancelled", "mine is cancelled");
    eq(await page.locator(`${row(mine)} ${tid("request-cancel")}`).count(), 0, "nothing to cancel any more");

    // dave asks: a notification, which opens Home at his request.
    const daves = await fake(() => window.__tallyFake.requests.incoming("dave", 300, "Lunch").id);
    await page.click(tid("nav-notifications"));
    const note = page.locator(tid("notification")).filter({ hasText: "Dave Diaz requests $3.00" });
    await note.first().waitFor();
    await note.first().locator("button.body").click();
    await page.locator(`${row(daves)}.focus`).waitFor();
    ok(await page.locator(tid("nav-home")).getAttribute("aria-current") === "page", "on Home");
    await page.click(`${row(daves)} ${tid("request-decline")}`);
    await until(async () => (await fake((id) => window.__tallyFake.requests.list.find((r) => r.id === id).status, daves)) === "declined", "declined at the hub");
    await until(async () => (await statusOf(page, daves)) === "declined", "and shown declined");
    await shot(page, "requests-after");

    // A tally://request/ID link opens Home at that request; one that is not the user's says so.
    await page.click(tid("nav-settings"));
    await fake((id) => window.__tallyFake.openLink({ outcome: "intent", intent: { kind: "request", id } }), mine);
    await page.locator(`${row(mine)}.focus`).waitFor();
    await fake(() => window.__tallyFake.openLink({ outcome: "intent", intent: { kind: "request", id: 99999 } }));
    await until(async () => (await page.locator(".toast, [role=status]").allInnerTexts()).join(" ").includes("No such request here"), "an unknown request is explained");
    await done();
  });

  test("request money: from Home with checks and a deadline, from a person's payment, refused offline; the card fits a phone", async () => {
    const { page, fake, done } = await open({});
    await page.locator(tid("balance-amount")).waitFor();
    eq(await page.locator(tid("requests")).count(), 0, "no requests, no card");
    await page.click(tid("home-request"));
    await page.locator(tid("request-dialog")).waitFor();
    await page.click(tid("request-submit"));
    await until(async () => (await text(page, tid("request-dialog"))).includes("Choose who you're asking."), "who is asked is required");
    await page.selectOption(tid("request-person"), "carol");
    await page.fill(tid("request-amount"), "abc");
    await page.click(tid("request-submit"));
    await until(async () => (await text(page, tid("request-dialog"))).includes("digits only"), "the amount is checked");
    await page.fill(tid("request-amount"), "7.50");
    await page.fill(tid("request-memo"), "Tickets 🎟");
    await page.selectOption(tid("request-deadline"), "7");
    eq((await text(page, tid("request-submit"))).trim(), "Request $7.50", "the button says what is asked");
    await shot(page, "request-dialog");
    await page.click(tid("request-submit"));
    await page.locator(tid("request-dialog")).waitFor({ state: "detached" });
    const asked = await fake(() => window.__tallyFake.requests.list.at(-1));
    eq(asked.payer.username, "carol", "asked of carol");
    eq(asked.amount.minor, 750, "for $7.50");
    ok(Math.abs(asked.expires_at - (Date.now() + 7 * 86_400_000)) < 60_000, "payable for 7 days");
    await page.locator(row(asked.id)).waitFor();
    ok((await text(page, row(asked.id))).includes("You asked Carol Chen"), "on the card");

    // From a person: a payment's details offer to ask them.
    await page.click(`${tid("feed-row")} >> nth=0`);
    await page.locator(tid("detail-dialog")).waitFor();
    const name = (await page.locator(`${tid("detail-dialog")} h2`).first().innerText()).trim();
    await page.click(tid("detail-request"));
    await page.locator(tid("request-who")).waitFor();
    ok((await text(page, tid("request-who"))).trim().endsWith(name), `asking ${name}, the person the payment was with`);
    eq(await page.evaluate(() => document.activeElement?.getAttribute("data-testid")), "request-amount", "the amount has the focus");
    await page.keyboard.press("Escape");
    await page.locator(tid("request-dialog")).waitFor({ state: "detached" });

    // Offline a request cannot go out: the dialog says so and does not send.
    await fake(() => window.__tallyFake.setConn({ state: "offline", since: Date.now() }));
    await page.click(tid("home-request"));
    await until(async () => (await text(page, tid("request-dialog"))).includes("You're offline"), "offline explained");
    ok(await page.locator(tid("request-submit")).isDisabled(), "and the button is off");
    await page.keyboard.press("Escape");
    await done();

    const phone = await open({ requests: true }, { viewport: { width: 390, height: 844 } });
    await phone.page.locator(tid("requests")).waitFor();
    await phone.page.locator(tid("requests")).scrollIntoViewIfNeeded();
    const problems = await phone.page.evaluate(overflowProblems);
    eq(problems.length, 0, `nothing sticks out on a phone: ${problems.join("; ")}`);
    await shot(phone.page, "requests-phone");
    await phone.done();
  });
}

export function conversationMoneyTests({ test, open, ok, eq, tid, shot, until }) {
  const card = (page, kind) => page.locator(`${tid("payment-card")}[data-kind="${kind}"]`).last();

  test("money in a conversation: a payment from the chat is a card that follows it to completed; a request asked of me there is paid from its card; a group offers only its members", async () => {
    const { page, fake, done } = await open({});
    await page.click(tid("nav-chat"));
    await page.click(`${tid("room-item")}[data-room="7"]`);
    await page.locator(tid("message-pane")).waitFor();

    // Send money here: Send with Bob chosen; done goes back to the conversation, where the card is.
    await page.click(tid("room-send-money"));
    await page.locator(tid("send-amount")).waitFor();
    await page.fill(tid("send-amount"), "15");
    await page.fill(tid("send-memo"), "Tickets 🎟");
    await page.click(tid("send-continue"));
    await page.click(tid("send-confirm"));
    await page.locator(tid("send-result")).waitFor();
    const sent = await fake(() => window.__tallyFake.calls.filter((c) => c.cmd === "plugin:tally|send_money").at(-1).args.req);
    eq(sent.room, 7, "the payment names the conversation");
    eq(sent.to, "bob", "to the other person of the conversation");
    await page.click(tid("send-done"));
    await page.locator(tid("message-pane")).waitFor();
    const paid = card(page, "transfer");
    await paid.waitFor();
    ok((await paid.innerText()).includes("You paid Bob Brown"), `who paid whom: ${await paid.innerText()}`);
    eq((await paid.locator(tid("payment-card-amount")).innerText()).trim(), "$15.00", "the amount");
    await until(async () => (await paid.getAttribute("data-status")) === "completed", "the card follows the payment to completed");
    eq(await page.locator(`${tid("message")}:has(${tid("payment-card")}) ${tid("message-edit")}`).count(), 0, "a payment's message has no edit");

    // Bob asks me here: a card I pay from, after a confirmation.
    const before = await fake(() => window.__tallyFake.available);
    await fake(() => window.__tallyFake.requests.incoming("bob", 700, "Taxi", null, 7));
    const asked = card(page, "request");
    await asked.waitFor();
    ok((await asked.innerText()).includes("Bob Brown asked you for"), "asked of me");
    await asked.locator(tid("card-pay")).click();
    eq(await fake(() => window.__tallyFake.available), before, "nothing moves before the confirmation");
    await asked.locator(tid("card-confirm-pay")).click();
    await until(async () => (await asked.getAttribute("data-status")) === "paid", "the card shows it paid");
    eq(await fake(() => window.__tallyFake.available), before - 700, "paid once");
    await shot(page, "chat-payment-cards");

    // In a group, Request money offers only its members.
    await page.click(`${tid("room-item")}[data-room="8"]`);
    await page.click(tid("room-request-money"));
    await page.locator(tid("request-dialog")).waitFor();
    const offered = await page.locator(`${tid("request-person")} option:not([disabled])`).evaluateAll((os) => os.map((o) => o.value));
    eq(offered.sort().join(","), "bob,carol", "the group's other members");
    await page.selectOption(tid("request-person"), "carol");
    await page.fill(tid("request-amount"), "20");
    await page.click(tid("request-submit"));
    await page.locator(tid("request-dialog")).waitFor({ state: "detached" });
    const mine = card(page, "request");
    await mine.waitFor();
    ok((await mine.innerText()).includes("You asked Carol Chen for"), `the request is a card in the group: ${await mine.innerText()}`);
    eq(await mine.locator(tid("card-pay")).count(), 0, "nothing to pay on my own request");
    await done();
  });
}

export function splitTests({ test, open, eq, tid, shot, until }) {
  const share = (page, who) => page.locator(`${tid("payment-card")}[data-kind="split"] ${tid("split-share")}[data-payer="${who}"]`).last();

  test("split a bill in a group: everyone's share on one card, each followed; a split asking me is paid from my share's row", async () => {
    const { page, fake, done } = await open({});
    await page.click(tid("nav-chat"));
    await page.click(`${tid("room-item")}[data-room="8"]`);
    await page.click(tid("room-request-money"));
    await page.locator(tid("request-dialog")).waitFor();
    await page.click(tid("request-mode-split"));
    eq(await page.locator(`${tid("request-sharer")}:checked`).count(), 2, "every other member ticked");
    await page.fill(tid("request-amount"), "60.01");
    await until(async () => (await page.locator(tid("request-split-summary")).innerText()).includes("3 people: $20.00 each, your share $20.01"), "the shares, the odd cent mine");
    await page.fill(tid("request-memo"), "Dinner 🍝");
    await shot(page, "split-dialog");
    await page.click(tid("request-submit"));
    await page.locator(tid("request-dialog")).waitFor({ state: "detached" });
    const bill = await fake(() => window.__tallyFake.calls.filter((c) => c.cmd === "plugin:tally|split_bill").at(-1).args.req);
    eq(bill.room, 8, "in the group");
    eq([...bill.with].sort().join(","), "bob,carol", "asking both");
    await until(async () => (await share(page, "bob").getAttribute("data-status")) === "open", "bob's share open on the card");
    eq(await share(page, "carol").getAttribute("data-status"), "open", "carol's too");
    const bobs = await fake(() => window.__tallyFake.requests.list.find((r) => r.payer.username === "bob").id);
    await fake((id) => window.__tallyFake.requests.answered(id, "paid"), bobs);
    await until(async () => (await share(page, "bob").getAttribute("data-status")) === "paid", "bob paid: his row says so");
    eq(await share(page, "carol").getAttribute("data-status"), "open", "carol has not yet");

    // carol splits one asking me: I pay my share from its row, after the confirmation.
    const before = await fake(() => window.__tallyFake.available);
    await fake(() => window.__tallyFake.requests.incomingSplit("carol", 8, 3_000, ["alice", "bob"], "Taxi"));
    const mine = share(page, "alice");
    await until(async () => (await mine.getAttribute("data-status")) === "open", "my share on carol's card");
    const card = page.locator(`${tid("payment-card")}[data-kind="split"]`).last();
    await card.locator(tid("card-pay")).click();
    await card.locator(tid("card-confirm-pay")).click();
    await until(async () => (await mine.getAttribute("data-status")) === "paid", "my share paid");
    eq(await fake(() => window.__tallyFake.available), before - 1_000, "a third of $30.00");
    await shot(page, "split-cards");
    await done();
  });
}
