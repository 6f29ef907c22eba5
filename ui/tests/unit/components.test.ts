import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageView } from "../../src/bindings/app";
import ConnPill from "../../src/components/ConnPill.svelte";
import MessageBubble from "../../src/components/MessageBubble.svelte";
import SyncBar from "../../src/components/SyncBar.svelte";
import SignIn from "../../src/views/SignIn.svelte";
import Settings from "../../src/views/Settings.svelte";
import App from "../../src/App.svelte";
import { flushSync } from "svelte";
import { app, dispatchChanges } from "../../src/lib/store.svelte";
import { formatMoney } from "../../src/lib/money";
import { refreshSync, resetSync, sync } from "../../src/lib/sync.svelte";
import { installFake, XSS } from "./helpers";

afterEach(() => {
  cleanup();
  clearMocks();
  vi.useRealTimers();
  sync.progress = null;
  app.presence = "online";
  app.problems = [];
  localStorage.clear();
});

const alice = { id: 1, username: "alice", display_name: "Alice Adams" };
const bob = { id: 2, username: "bob", display_name: "Bob Brown" };

function message(over: Partial<MessageView["message"]> = {}, local: MessageView["local"] = { state: "sent" }, readBy = [] as typeof alice[]): MessageView {
  return {
    message: { id: 55, room: 7, seq: 130, client_msg_id: "c-1", sender: bob, text: "hello", mentions: [], sent_at: Date.now(), deleted: false, reactions: [], ...over },
    local,
    outbox_id: local.state === "sent" ? null : 3,
    read_by: readBy,
    card: null,
  };
}

const noop = () => {};
const handlers = { onreact: noop, onedit: noop, ondelete: noop, onretry: noop, ondiscard: noop };

describe("ConnPill", () => {
  it("counts down and retries with reconnect_now", async () => {
    const calls: string[] = [];
    mockIPC((cmd) => {
      calls.push(cmd);
      return null;
    });
    const now = Date.now();
    render(ConnPill, { conn: { state: "backing_off", attempt: 1, retry_at: now + 4000, last_error: "refused", offline_since: null }, now, onSignIn: noop });
    expect(screen.getByTestId("conn-pill-text").textContent).toBe("Reconnecting in 4 s");
    await fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    await waitFor(() => expect(calls).toContain("plugin:tally|reconnect_now"));
  });

  it("asks to sign in again after auth_failed", async () => {
    const onSignIn = vi.fn();
    render(ConnPill, { conn: { state: "auth_failed", reason: "revoked" }, now: Date.now(), onSignIn });
    await fireEvent.click(screen.getByRole("button", { name: "Sign in again" }));
    expect(onSignIn).toHaveBeenCalledOnce();
  });
});

describe("MessageBubble", () => {
  it("renders other people's markup as text", () => {
    const { container } = render(MessageBubble, { mv: message({ text: XSS }), me: alice, members: [alice, bob], group: false, groupStart: true, groupEnd: true, ...handlers });
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getByTestId("message-text").textContent).toBe(XSS);
  });

  it("highlights a mention of me", () => {
    const { container } = render(MessageBubble, { mv: message({ text: "hi @alice", mentions: [1] }), me: alice, members: [alice, bob], group: false, groupStart: true, groupEnd: true, ...handlers });
    expect(container.querySelector("mark.mention.self")?.textContent).toBe("@alice");
    expect(container.querySelector(".bubble.mention-me")).not.toBeNull();
  });

  it("shows pending, read-by and failed states of my messages", async () => {
    const mine = { sender: alice };
    const r1 = render(MessageBubble, { mv: message(mine, { state: "pending" }), me: alice, members: [alice, bob], group: false, groupStart: true, groupEnd: true, ...handlers });
    expect(screen.getByLabelText("Sending")).toBeTruthy();
    r1.unmount();
    const r2 = render(MessageBubble, { mv: message(mine, { state: "sent" }, [bob]), me: alice, members: [alice, bob], group: false, groupStart: true, groupEnd: true, ...handlers });
    expect(screen.getByLabelText("Read by Bob Brown")).toBeTruthy();
    r2.unmount();
    const onretry = vi.fn();
    const ondiscard = vi.fn();
    render(MessageBubble, { mv: message(mine, { state: "failed", reason: "rejected", code: "invalid" }), me: alice, members: [alice, bob], group: false, groupStart: true, groupEnd: true, ...handlers, onretry, ondiscard });
    expect(screen.getByRole("alert").textContent).toContain("Not sent: rejected");
    await fireEvent.click(screen.getByRole("button", { name: "Retry" }));
    await fireEvent.click(screen.getByRole("button", { name: "Discard" }));
    expect(onretry).toHaveBeenCalledOnce();
    expect(ondiscard).toHaveBeenCalledOnce();
  });

  it("marks deleted and edited messages", () => {
    const r = render(MessageBubble, { mv: message({ deleted: true, text: "" }), me: alice, members: [alice, bob], group: false, groupStart: true, groupEnd: true, ...handlers });
    expect(r.container.textContent).toContain("Message deleted");
    r.unmount();
    render(MessageBubble, { mv: message({ edited_at: Date.now() }), me: alice, members: [alice, bob], group: false, groupStart: true, groupEnd: true, ...handlers });
    expect(screen.getByText("(edited)", { exact: false })).toBeTruthy();
  });
});

describe("SignIn", () => {
  it("lists demo accounts from demo_info and signs in with one click", async () => {
    const fake = installFake({ signedIn: false });
    const onsignedin = vi.fn();
    render(SignIn, { onsignedin });
    const bobBtn = await screen.findByTestId("demo-user-bob", {}, { timeout: 2000 });
    await fireEvent.click(bobBtn);
    await waitFor(() => expect(onsignedin).toHaveBeenCalledWith(expect.objectContaining({ user: expect.objectContaining({ username: "bob" }) })));
    expect(fake.calls.find((c) => c.cmd === "plugin:tally|sign_in")?.args).toEqual({ server: "http://127.0.0.1:8787", username: "bob", password: "tally-demo", code: null });
  });

  it("explains a wrong password", async () => {
    installFake({ signedIn: false });
    render(SignIn, { onsignedin: noop });
    await fireEvent.input(screen.getByTestId("signin-username"), { target: { value: "alice" } });
    await fireEvent.input(screen.getByTestId("signin-password"), { target: { value: "nope" } });
    await fireEvent.click(screen.getByTestId("signin-submit"));
    expect((await screen.findByTestId("signin-error")).textContent).toContain("Wrong username or password");
  });
});

describe("App", () => {
  it("restores the session and shows the balance, re-reading on `changed`", async () => {
    const fake = installFake({});
    render(App);
    const amount = await screen.findByTestId("balance-amount", {}, { timeout: 3000 });
    expect(amount.textContent?.trim()).toBe(new Intl.NumberFormat(navigator.language, { style: "currency", currency: "USD" }).format(fake.available / 100));
    fake.incomingPayment("bob", 1_000, "Rent share");
    await waitFor(() =>
      expect(screen.getByTestId("balance-amount").textContent?.trim()).toBe(
        new Intl.NumberFormat(navigator.language, { style: "currency", currency: "USD" }).format(fake.available / 100),
      ),
    );
    await waitFor(() => expect(screen.getByTestId("live-region").textContent).toContain("Bob Brown paid you"));
    expect(app.session?.user.username).toBe("alice");
  });

  it("shows a `problem` as an alert that stays until dismissed", async () => {
    const fake = installFake({});
    render(App);
    await screen.findByTestId("balance-amount", {}, { timeout: 3000 });
    fake.problem("keychain_unavailable", "The system keychain refused to keep your sign-in.");
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("The system keychain refused to keep your sign-in.");
    expect(alert.closest('[data-testid="toast"]')).toBeNull();
    fake.problem("keychain_unavailable", "Still refused.");
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("Still refused."));
    expect(screen.getAllByRole("alert")).toHaveLength(1);
    await fireEvent.click(screen.getByRole("button", { name: "Dismiss this alert" }));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("restores the status chosen last time on this device", async () => {
    localStorage.setItem("tally.presence:http://127.0.0.1:8787|alice", JSON.stringify({ chosen: "busy", away: false }));
    installFake({});
    render(App);
    await screen.findByTestId("balance-amount", {}, { timeout: 3000 });
    expect(app.presence).toBe("busy");
  });
});

describe("Settings", () => {
  it("keeps chat history offline by default; turning it off saves keep_chat_history: false", async () => {
    const fake = installFake({});
    render(Settings);
    const toggle = await screen.findByRole("checkbox", { name: "Keep chat history offline" });
    expect((toggle as HTMLInputElement).checked).toBe(true);
    expect(toggle.getAttribute("aria-describedby")).toBe("keep-history-hint");
    expect(document.getElementById("keep-history-hint")?.textContent).toContain("newest 500 per room");
    await fireEvent.click(toggle);
    await waitFor(() => expect(fake.prefs.keep_chat_history).toBe(false));
    const saved = fake.calls.filter((c) => c.cmd === "plugin:tally|set_prefs").at(-1)?.args.prefs;
    expect(saved).toEqual({ ...fake.prefs, keep_chat_history: false });
    expect((toggle as HTMLInputElement).checked).toBe(false);
    expect(app.prefs?.keep_chat_history).toBe(false);
  });
});

describe("Settings limits", () => {
  it("shows per payment, per day and left today for each currency held, and re-reads after a payment", async () => {
    const fake = installFake({ limits: { single_max: 100_000, daily_max: 500_000 }, sentToday: { USD: 180_000 } });
    render(Settings);
    const usd = await screen.findByText("USD");
    const row = usd.closest("[data-testid='limits-row']") as HTMLElement;
    const cell = (r: HTMLElement, id: string) => r.querySelector(`[data-testid='${id}']`)?.textContent;
    await waitFor(() => expect(cell(row, "limit-remaining")).toBe(formatMoney(320_000, "USD")));
    expect(cell(row, "limit-single")).toBe(formatMoney(100_000, "USD"));
    expect(cell(row, "limit-daily")).toBe(formatMoney(500_000, "USD"));
    const rows = screen.getAllByTestId("limits-row").map((r) => r.dataset.currency);
    expect(rows).toEqual(["USD", "EUR"]);
    const eur = screen.getAllByTestId("limits-row")[1];
    expect(cell(eur, "limit-remaining")).toBe(formatMoney(500_000, "EUR"));
    fake.emit = (ev) => {
      if (ev.type === "changed") dispatchChanges(ev.changes); // what App's event listener does
    };
    fake.sentFromAnotherDevice(300_000);
    await waitFor(() => expect(cell(row, "limit-remaining")).toBe(formatMoney(20_000, "USD")));
  });

  it("says the limits are not known before the first connection", async () => {
    installFake({ limits: null });
    render(Settings);
    expect((await screen.findByTestId("limits-unknown")).textContent).toContain("once Tally has connected");
  });
});

describe("Settings status", () => {
  it("shows the chosen status, updates it when set_presence succeeds, keeps it when it fails", async () => {
    const fake = installFake({});
    app.presence = "busy";
    render(Settings);
    const select = (await screen.findByTestId("presence-select")) as HTMLSelectElement;
    expect(select.value).toBe("busy");
    await fireEvent.change(select, { target: { value: "away" } });
    await waitFor(() => expect(app.presence).toBe("away"));
    expect(fake.presenceSet).toEqual(["away"]);
    fake.presenceError = "offline";
    await fireEvent.change(select, { target: { value: "online" } });
    await waitFor(() => expect(app.toasts.some((t) => t.title === "Couldn't update your status")).toBe(true));
    expect(app.presence).toBe("away");
    expect(select.value).toBe("away");
  });
});

describe("SyncBar", () => {
  const partial = { parts: [], fetched: 41_200, total: 100_000, complete: false };
  const done = { parts: [], fetched: 100_000, total: 100_000, complete: true };

  it("shows an accessible progress bar, then History complete", () => {
    sync.progress = partial;
    render(SyncBar);
    const bar = screen.getByRole("progressbar", { name: "History download" });
    expect(bar.getAttribute("aria-valuenow")).toBe("41");
    expect(bar.getAttribute("aria-valuemin")).toBe("0");
    expect(bar.getAttribute("aria-valuemax")).toBe("100");
    const text = new Intl.NumberFormat(navigator.language).format(41_200);
    expect(bar.getAttribute("aria-valuetext")).toContain(text);
    expect(screen.getByTestId("sync-text").textContent).toContain("Downloading history — ");
    sync.progress = done;
    flushSync();
    expect(screen.queryByRole("progressbar")).toBeNull();
    expect(screen.getByTestId("sync-text").textContent).toBe("History complete");
  });

  it("is indeterminate while the total is unknown", () => {
    sync.progress = { ...partial, total: null };
    render(SyncBar);
    const bar = screen.getByRole("progressbar");
    expect(bar.hasAttribute("aria-valuenow")).toBe(false);
    expect(screen.getByTestId("sync-text").textContent).toMatch(/so far$/);
  });

  it("quiet: nothing when already complete; History complete only briefly after finishing", () => {
    vi.useFakeTimers();
    sync.progress = done;
    render(SyncBar, { quiet: true });
    expect(screen.queryByTestId("sync-bar")).toBeNull();
    sync.progress = partial;
    flushSync();
    expect(screen.getByRole("progressbar")).toBeTruthy();
    sync.progress = { ...done };
    flushSync();
    expect(screen.getByTestId("sync-text").textContent).toBe("History complete");
    sync.progress = { ...done }; // a re-read with the same state keeps the timer
    flushSync();
    vi.advanceTimersByTime(6500);
    flushSync();
    expect(screen.queryByTestId("sync-bar")).toBeNull();
  });

  it("the store reads sync_progress, coalesces bursts and announces completion", async () => {
    const fake = installFake({ backfill: { fetched: 500, total: 2000 } });
    resetSync();
    await waitFor(() => expect(sync.progress?.parts[0]).toMatchObject({ kind: "transactions", fetched: 500, total: 2000 }));
    const reads = () => fake.calls.filter((c) => c.cmd === "plugin:tally|sync_progress").length;
    const before = reads();
    fake.backfill(2000, 2000);
    for (let i = 0; i < 20; i++) refreshSync();
    await waitFor(() => expect(sync.progress?.complete).toBe(true));
    expect(reads() - before).toBeLessThanOrEqual(2);
    await waitFor(() => expect(app.announcement).toBe("History complete"));
  });
});
