// Sign-in and Send rough edges, and other people's text in direction isolates (issue 16, items 5 and 7).
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { MessageView } from "../../src/bindings/app";
import MessageBubble from "../../src/components/MessageBubble.svelte";
import TxFeedRow from "../../src/components/TxFeedRow.svelte";
import SignIn from "../../src/views/SignIn.svelte";
import { installFake } from "./helpers";

afterEach(() => {
  cleanup();
  clearMocks();
  localStorage.clear();
});

const alice = { id: 1, username: "alice", display_name: "Alice Adams" };
const evil = { id: 2, username: "bob", display_name: "\u202Eevil" };
const noop = () => {};

describe("other people's text", () => {
  it("a message and its sender: bidi controls stripped, in dir=auto isolates", () => {
    const mv: MessageView = {
      message: { id: 5, room: 8, seq: 5, client_msg_id: "c5", sender: evil, text: "\u202Eevil \u2066and\u2069 more", mentions: [], sent_at: Date.now(), deleted: false, reactions: [] },
      local: { state: "sent" },
      outbox_id: null,
      read_by: [],
      card: null,
    };
    const { container } = render(MessageBubble, { mv, me: alice, members: [alice, evil], group: true, groupStart: true, groupEnd: true, onreact: noop, onedit: noop, ondelete: noop, onretry: noop, ondiscard: noop });
    const text = screen.getByTestId("message-text");
    expect(text.textContent).toBe("evil and more");
    expect(text.getAttribute("dir")).toBe("auto");
    expect(container.querySelector('[data-testid="message-bubble"]')?.getAttribute("dir")).toBe("auto");
    const sender = screen.getByTestId("message-sender");
    expect(sender.tagName).toBe("BDI");
    expect(sender.textContent).toBe("evil");
  });

  it("a payment's name and memo in the feed", () => {
    render(TxFeedRow, {
      tx: { id: 9, kind: "transfer_in", direction: "in", amount: { minor: 500, currency: "USD" }, balance_after: 1000, memo: "\u202Eevil", status: "completed", created_at: Date.now(), counterparty: evil, transfer_id: 1 },
      now: Date.now(),
    });
    for (const id of ["feed-name", "feed-memo"]) {
      const el = screen.getByTestId(id);
      expect(el.tagName).toBe("BDI");
      expect(el.textContent).toBe("evil");
    }
    expect(screen.getByRole("button").textContent ?? "").not.toMatch(/[\u202A-\u202E\u2066-\u2069]/); // its name is its visible text
  });
});

describe("SignIn rough edges", () => {
  it("shows one error at a time and clears it when a field changes", async () => {
    installFake({ signedIn: false });
    render(SignIn, { onsignedin: noop });
    const serverInput = screen.getByTestId("signin-server") as HTMLInputElement;
    await fireEvent.input(serverInput, { target: { value: "127.0.0.1:8787" } });
    await fireEvent.click(screen.getByTestId("signin-submit"));
    expect((await screen.findByTestId("signin-error")).textContent).toContain("Enter the server address");
    await waitFor(() => expect(document.activeElement).toBe(serverInput));
    await fireEvent.input(serverInput, { target: { value: "http://127.0.0.1:8787" } });
    expect(screen.queryByTestId("signin-error")).toBeNull();
    await fireEvent.click(screen.getByTestId("signin-submit"));
    expect((await screen.findByTestId("signin-error")).textContent).toContain("Enter your username");
    expect(screen.getAllByRole("alert")).toHaveLength(1);
  });

  it("after a wrong password: the password is cleared and has the focus", async () => {
    installFake({ signedIn: false });
    render(SignIn, { onsignedin: noop });
    const password = screen.getByTestId("signin-password") as HTMLInputElement;
    await fireEvent.input(screen.getByTestId("signin-username"), { target: { value: "alice" } });
    await fireEvent.input(password, { target: { value: "nope" } });
    await fireEvent.click(screen.getByTestId("signin-submit"));
    expect((await screen.findByTestId("signin-error")).textContent).toContain("Wrong username or password");
    expect(password.value).toBe("");
    await waitFor(() => expect(document.activeElement).toBe(password));
    expect(password.getAttribute("aria-invalid")).toBe("true");
    await fireEvent.input(password, { target: { value: "t" } });
    expect(screen.queryByTestId("signin-error")).toBeNull();
  });

  it("remembers the last server and username (never the password) for the next sign-in", async () => {
    installFake({ signedIn: false });
    const onsignedin = vi.fn();
    const first = render(SignIn, { onsignedin });
    await fireEvent.input(screen.getByTestId("signin-server"), { target: { value: "http://10.0.0.5:8787" } });
    await fireEvent.input(screen.getByTestId("signin-username"), { target: { value: "carol" } });
    await fireEvent.input(screen.getByTestId("signin-password"), { target: { value: "tally-demo" } });
    await fireEvent.click(screen.getByTestId("signin-submit"));
    await waitFor(() => expect(onsignedin).toHaveBeenCalled());
    first.unmount();
    render(SignIn, { onsignedin: noop });
    expect((screen.getByTestId("signin-server") as HTMLInputElement).value).toBe("http://10.0.0.5:8787");
    expect((screen.getByTestId("signin-username") as HTMLInputElement).value).toBe("carol");
    expect((screen.getByTestId("signin-password") as HTMLInputElement).value).toBe("");
    expect(JSON.stringify(localStorage)).not.toContain("tally-demo");
  });
});
