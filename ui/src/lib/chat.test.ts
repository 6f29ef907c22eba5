import { describe, expect, it } from "vitest";
import type { MessageView } from "../bindings/app";
import type { UserSummary } from "../bindings/protocol";
import { buildChatItems, chunkChatItems, firstUnread, lastSeq, mergeNewest, segments } from "./chat";
import { groupNotifications } from "./notify";
import { typingText } from "./people";

const alice: UserSummary = { id: 1, username: "alice", display_name: "Alice Adams" };
const bob: UserSummary = { id: 2, username: "bob", display_name: "Bob Brown" };

function mv(seq: number, sender: UserSummary, at: number, state: MessageView["local"]["state"] = "sent"): MessageView {
  return {
    message: { id: seq, room: 7, seq, client_msg_id: `c${seq}`, sender, text: `m${seq}`, mentions: [], sent_at: at, deleted: false, reactions: [] },
    local: state === "failed" ? { state, reason: "x", code: "expired" } : { state },
    outbox_id: null,
    read_by: [],
    card: null,
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
  it("puts the unread line above the first unread message, which starts a run of its own", () => {
    const d = new Date(2026, 0, 5, 10, 0).getTime();
    const list = [mv(1, bob, d), mv(2, alice, d + 1000), mv(3, bob, d + 2000), mv(4, bob, d + 3000)];
    const deleted = { ...mv(5, bob, d + 4000), message: { ...mv(5, bob, d + 4000).message, deleted: true } };
    const from = firstUnread([...list, deleted, mv(0, alice, d + 5000, "pending")], 2, alice.id);
    expect(from).toBe(3); // bob's last two, past alice's own, a deleted one and a local echo
    const items = buildChatItems(list, from);
    expect(items.map((i) => i.kind)).toEqual(["day", "message", "message", "unread", "message", "message"]);
    expect(items[4].groupStart).toBe(true);
    expect(firstUnread(list, 0, alice.id)).toBeNull();
    expect(firstUnread(list, 9, alice.id)).toBeNull(); // not all loaded: no line
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

describe("chunkChatItems", () => {
  const day = 86_400_000;
  const t0 = Date.UTC(2026, 0, 5, 12);
  it("splits by room-log seq with stable keys; day separators go with the message after them", () => {
    const list = Array.from({ length: 120 }, (_, i) => mv(i + 1, i % 2 ? alice : bob, t0 + (i >= 60 ? day : 0) + i * 60_000));
    const chunks = chunkChatItems(buildChatItems(list), 50);
    expect(chunks.map((c) => c.key)).toEqual(["chunk:0", "chunk:1", "chunk:2"]);
    expect(chunks.map((c) => c.items.filter((i) => i.kind === "message").length)).toEqual([49, 50, 21]);
    expect(chunks.flatMap((c) => c.items)).toEqual(buildChatItems(list)); // nothing lost or reordered
    expect(chunks[1].items.some((i) => i.kind === "day")).toBe(true); // the second day starts at seq 61
    // Loading older messages adds chunks in front; the existing ones keep their keys.
    const more = chunkChatItems(buildChatItems([...Array.from({ length: 10 }, (_, i) => mv(i + 1, bob, t0 - day + i)), ...list.slice(10)]), 50);
    expect(more.map((c) => c.key)).toEqual(["chunk:0", "chunk:1", "chunk:2"]);
  });
  it("puts local echoes (seq 0) in the last chunk", () => {
    const list = [mv(99, bob, t0), mv(100, alice, t0 + 1), { ...mv(0, alice, t0 + 2, "pending"), message: { ...mv(0, alice, t0 + 2).message, client_msg_id: "local" } }];
    const chunks = chunkChatItems(buildChatItems(list), 50);
    expect(chunks.map((c) => c.key)).toEqual(["chunk:1", "chunk:2"]);
    expect(chunks[1].items.filter((i) => i.kind === "message").map((i) => i.mv?.message.seq)).toEqual([100, 0]);
  });
});

describe("mergeNewest", () => {
  it("keeps older messages scrolled back to when the newest page is read again", () => {
    const loaded = Array.from({ length: 300 }, (_, i) => mv(i + 1, bob, i));
    const fresh = [...loaded.slice(250).map((m) => (m.message.seq === 300 ? { ...m, message: { ...m.message, text: "edited" } } : m)), mv(301, alice, 301)];
    const merged = mergeNewest(loaded, fresh, 51);
    expect(merged.length).toBe(301);
    expect(merged.map((m) => m.message.seq)).toEqual(Array.from({ length: 301 }, (_, i) => i + 1));
    expect(merged[299].message.text).toBe("edited");
  });
  it("takes a short page as the whole room", () => {
    const loaded = [mv(1, bob, 1), mv(2, bob, 2)];
    expect(mergeNewest(loaded, [mv(2, bob, 2)], 50)).toEqual([mv(2, bob, 2)]);
  });
});
