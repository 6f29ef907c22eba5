import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_SERVER, forgetAccount, lastRoom, lastSignIn, rememberRoom, rememberSignIn } from "./remember";

afterEach(() => localStorage.clear());

describe("remember", () => {
  it("gives the default server and no username before any sign-in, then the last ones", () => {
    expect(lastSignIn()).toEqual({ server: DEFAULT_SERVER, username: "" });
    rememberSignIn("https://hub.example", "bob");
    expect(lastSignIn()).toEqual({ server: "https://hub.example", username: "bob" });
    expect(JSON.stringify(localStorage)).not.toContain("password");
  });
  it("survives storage holding something else", () => {
    localStorage.setItem("tally.lastSignIn", "not json");
    localStorage.setItem("tally.lastRoom", "[1,2]");
    expect(lastSignIn()).toEqual({ server: DEFAULT_SERVER, username: "" });
    expect(lastRoom("s", "alice")).toBeNull();
  });
  it("keeps the last room per account", () => {
    rememberRoom("s", "alice", 8);
    rememberRoom("s", "bob", 9);
    expect(lastRoom("s", "alice")).toBe(8);
    expect(lastRoom("s", "bob")).toBe(9);
    expect(lastRoom("other", "alice")).toBeNull();
  });
  it("forgets one account's room and status after a sign-out that wipes, keeping the last sign-in", () => {
    rememberSignIn("s", "alice");
    rememberRoom("s", "alice", 8);
    rememberRoom("s", "bob", 9);
    localStorage.setItem("tally.presence:s|alice", JSON.stringify({ chosen: "busy", away: false }));
    forgetAccount("s", "alice");
    expect(lastRoom("s", "alice")).toBeNull();
    expect(lastRoom("s", "bob")).toBe(9);
    expect(localStorage.getItem("tally.presence:s|alice")).toBeNull();
    expect(lastSignIn()).toEqual({ server: "s", username: "alice" });
  });
});
