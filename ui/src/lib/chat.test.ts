import { describe, expect, it } from "vitest";
import type { MessageView } from "../bindings/app";
import type { UserSummary } from "../bindings/protocol";
import { buildChatItems, lastSeq, segments } from "./chat";
import { groupNotifications } from "./notify";
import { typingText } from "./people";

const alice: UserSummary = { id: 1, username: "alice", display_name: "Alice Adams" };
const bob: UserSummary = { id: 2, username: "bob", display_name: "Bob Brown" };

function mv(seq: number, sender: UserSummary, at: number, state: MessageView["local"]["state"] = "sent"): MessageView {
  return {
    message: { id: seq, room: 7, seq, client_msg_id: `c${seq}`, sender, text: `m${seq}`, mentions: [], sent_at: at, deleted: false, reactions: [] },
    local: state === "failed" ? { state, reason: "x", code: "y" } : { state },
    outbox_id: null,
    read_by: [],
  };
}

describe("segments", () => {
  it("marks mentions of members, leaves markup as text", () => {
    expect(segments("Hi @bob, <b>x</b> @carol @alice.", [alice, bob], alice)).toEqual([
      { text: "Hi ", mention: null },
      { text: "@bob", mention: "other" },
      { text: ", <b>x</b> @carol ", mention: null },
      { text: "@alice", mention: "self" },
      { text: ".", mention: null },
    ]);
  });
});

describe("buildChatItems", () => {
  it("adds day separators and groups runs by sender", () => {
    const d1 = new Date(2026, 0, 5, 10, 0).getTime();
    const d2 = new Date(2026, 0, 6, 10, 0).getTime();
    const items = buildChatItems([mv(1, bob, d1), mv(2, bob, d1 + 60_000), mv(3, alice, d1 + 120_000), mv(4, alice, d2)]);
    expect(items.map((i) => i.kind)).toEqual(["day", "message", "message", "message", "day", "message"]);
    const msgs = items.filter((i) => i.kind === "message");
    expect(msgs.map((i) => [i.groupStart, i.groupEnd])).toEqual([
      [true, false],
      [false, true],
      [true, true],
      [true, true],
    ]);
  });
  it("lastSeq ignores local echoes", () => {
    expect(lastSeq([mv(3, alice, 0), mv(0, alice, 1, "pending")])).toBe(3);
  });
});

describe("groupNotifications", () => {
  it("groups by day with critical first", () => {
    const day = new Date(2026, 0, 5, 12).getTime();
    const n = (id: number, at: number, priority: "critical" | "normal") => ({ id, kind: "system" as const, priority, title: "", body: "", read: false, created_at: at });
    const groups = groupNotifications([n(1, day + 1000, "normal"), n(2, day, "critical"), n(3, day - 86_400_000, "normal")]);
    expect(groups.map((g) => g.items.map((i) => i.id))).toEqual([[2, 1], [3]]);
  });
});

describe("typingText", () => {
  it("names who is typing", () => {
    expect(typingText([bob])).toBe("Bob is typing…");
    expect(typingText([bob, alice])).toBe("Bob and Alice are typing…");
    expect(typingText([bob, alice, bob])).toBe("3 people are typing…");
  });
});
