import { describe, expect, it } from "vitest";
import type { UserSummary } from "../bindings/protocol";
import { candidates, complete, MAX_CANDIDATES, mentionAt } from "./mention";

const U = (id: number, username: string, display_name: string): UserSummary => ({ id, username, display_name });
const members = [U(1, "alice", "Alice Adams"), U(2, "bob", "Bob Brown"), U(3, "carol", "Carol Chen"), U(4, "bea", "Beatrice Bob")];

describe("mentionAt", () => {
  it("finds the @name being typed at the caret", () => {
    expect(mentionAt("hi @bo", 6)).toEqual({ start: 3, query: "bo" });
    expect(mentionAt("@", 1)).toEqual({ start: 0, query: "" });
    expect(mentionAt("hi @bob and", 7)).toEqual({ start: 3, query: "bob" });
  });
  it("is not a mention after a space, inside a word (an e-mail) or with other characters", () => {
    expect(mentionAt("hi @bob ", 8)).toBeNull();
    expect(mentionAt("mail me@bob", 11)).toBeNull();
    expect(mentionAt("@bo!", 4)).toBeNull();
    expect(mentionAt("no at sign", 5)).toBeNull();
  });
});

describe("candidates", () => {
  it("usernames first, then a word of the name; never me; case does not matter", () => {
    expect(candidates(members, "b", 1).map((u) => u.username)).toEqual(["bob", "bea"]);
    expect(candidates(members, "BOB", 1).map((u) => u.username)).toEqual(["bob", "bea"]);
    expect(candidates(members, "chen", 1).map((u) => u.username)).toEqual(["carol"]);
    expect(candidates(members, "al", 1)).toEqual([]);
    expect(candidates(members, "", 1).length).toBe(3);
  });
  it("offers at most a handful", () => {
    const many = Array.from({ length: 30 }, (_, i) => U(i + 10, `user${i}`, `User ${i}`));
    expect(candidates(many, "user", null)).toHaveLength(MAX_CANDIDATES);
  });
});

describe("complete", () => {
  it("fills the username in with a space after it (none before punctuation), the caret after it", () => {
    expect(complete("hi @bo", { start: 3, query: "bo" }, "bob")).toEqual({ text: "hi @bob ", caret: 8 });
    expect(complete("@ca, look", { start: 0, query: "ca" }, "carol")).toEqual({ text: "@carol, look", caret: 6 });
    expect(complete("hi @b there", { start: 3, query: "b" }, "bob")).toEqual({ text: "hi @bob there", caret: 8 });
  });
});
