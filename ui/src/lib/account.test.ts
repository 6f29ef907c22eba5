import { describe, expect, it } from "vitest";
import type { DeviceSession } from "../bindings/app";
import {
  codeError,
  codeProblem,
  newPasswordProblem,
  normalizeCode,
  otherDevicesText,
  platformName,
  recoveryCodesText,
  sentence,
  signUpError,
  sortDevices,
  splitFieldMessage,
} from "./account";
import { describeError } from "./api";

describe("the hub's messages as sentences", () => {
  it("capitalises and ends with a full stop, once", () => {
    expect(sentence("username already taken")).toBe("Username already taken.");
    expect(sentence("Already a sentence.")).toBe("Already a sentence.");
    expect(sentence("  ")).toBe("");
  });
  it("splits the field off an `invalid` message", () => {
    expect(splitFieldMessage("password: too easy to guess (This is a very common password.); a few unrelated words or a longer phrase work well")).toEqual({
      field: "password",
      text: "Too easy to guess (This is a very common password.); a few unrelated words or a longer phrase work well.",
    });
    expect(splitFieldMessage("display_name: at most 64 characters")).toEqual({ field: "display_name", text: "At most 64 characters." });
    expect(splitFieldMessage("something odd")).toEqual({ field: null, text: "Something odd." });
  });
});

describe("signUpError", () => {
  const f = (code: string, message: string) => signUpError({ code, message }, describeError);
  it("puts each refusal on its field", () => {
    expect(f("invalid", "password: at least 12 characters")).toEqual({ field: "password", text: "At least 12 characters." });
    expect(f("invalid", "username: 2-32 characters of a-z, 0-9, '_', '.', '-'")).toEqual({
      field: "username",
      text: "Username: 2-32 characters of a-z, 0-9, '_', '.', '-'.",
    });
    expect(f("conflict", "username already taken")).toEqual({ field: "username", text: "That username is taken. Choose another one." });
    expect(f("not_found", "tenant not found").field).toBe("server");
    expect(f("network", "connection refused").field).toBe("server");
    expect(f("insecure_server", "plain http").text).toMatch(/https:\/\//);
  });
  it("says the hub's reason for a refused sign-up, on the invite field when it is about the invite", () => {
    expect(f("forbidden", "sign-up is closed here; ask the operator of this hub for an account or an invite")).toEqual({
      field: "invite",
      text: "Sign-up is closed here; ask the operator of this hub for an account or an invite.",
    });
    expect(f("forbidden", "this invite code is not valid (used, expired or mistyped)").field).toBe("invite");
    expect(f("forbidden", "").text).toBe("Sign-up isn't open on this server.");
    expect(f("rate_limited", "slow down").field).toBeNull();
  });
});

describe("two-factor codes", () => {
  it("normalises a code as the hub compares it", () => {
    expect(normalizeCode(" 123 456 ", false)).toBe("123456");
    expect(normalizeCode("123-456", false)).toBe("123456");
    expect(normalizeCode(" ABCDE-23456 ", true)).toBe("abcde-23456");
  });
  it("refuses what cannot be a code before asking", () => {
    expect(codeProblem("", false)).toMatch(/6-digit code/);
    expect(codeProblem("12345", false)).toBe("The code is 6 digits.");
    expect(codeProblem("123 456", false)).toBeNull();
    expect(codeProblem("", true)).toMatch(/recovery codes/);
    expect(codeProblem("abcde-2345", true)).toMatch(/10 letters and digits/);
    expect(codeProblem("abcde 23456", true)).toBeNull();
  });
  it("explains a refused code", () => {
    expect(codeError({ code: "unauthorized", message: "wrong two-factor code" }, describeError)).toMatch(/isn't right/);
    expect(codeError({ code: "unauthorized", message: "that code was already used; wait for the next one" }, describeError)).toMatch(/already used/);
    expect(codeError({ code: "auth", message: "too many failed attempts; wait a few minutes and try again" }, describeError)).toMatch(/Too many failed attempts/);
    // The engine may report a refused sign-in code as `auth` (its "wrong username or password").
    expect(codeError({ code: "auth", message: "wrong username or password" }, describeError)).toMatch(/isn't right/);
    expect(codeError({ code: "offline", message: "x" }, describeError)).toMatch(/offline/);
  });
});

describe("recovery codes file", () => {
  it("names the account and lists one code a line", () => {
    const text = recoveryCodesText(["abcde-23456", "fghjk-78923"], { username: "alice", server: "https://hub.example" }, Date.UTC(2026, 2, 12, 9, 0));
    expect(text).toContain("Account: @alice on https://hub.example");
    expect(text.split("\n")).toEqual(expect.arrayContaining(["abcde-23456", "fghjk-78923"]));
    expect(text.endsWith("\n")).toBe(true);
  });
});

describe("devices", () => {
  const d = (id: string, last: number, current = false): DeviceSession => ({ id, device: id, platform: "linux", ip: "1.2.3.4", created_at: 0, last_seen_at: last, current });
  it("lists this device first, then the most recently seen", () => {
    expect(sortDevices([d("old", 1), d("this", 0, true), d("new", 5)]).map((x) => x.id)).toEqual(["this", "new", "old"]);
  });
  it("names platforms", () => {
    expect(platformName("macos")).toBe("macOS");
    expect(platformName("windows")).toBe("Windows");
    expect(platformName("haiku")).toBe("Haiku");
    expect(platformName("")).toBe("Unknown system");
  });
  it("counts signed-out devices", () => {
    expect(otherDevicesText(0)).toBe("No other devices were signed in.");
    expect(otherDevicesText(1)).toBe("1 other device was signed out.");
    expect(otherDevicesText(3)).toBe("3 other devices were signed out.");
  });
});

describe("newPasswordProblem", () => {
  it("checks the length (in characters) and the confirmation; the hub judges the rest", () => {
    expect(newPasswordProblem("", "", 12)).toEqual({ field: "password", text: "Choose a password." });
    expect(newPasswordProblem("short", "short", 12)?.text).toBe("Use at least 12 characters.");
    expect(newPasswordProblem("🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂", "🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂🙂", 12)).toBeNull();
    expect(newPasswordProblem("correct horse battery", "correct horse batter", 12)).toEqual({ field: "confirm", text: "The passwords don't match." });
    expect(newPasswordProblem("password1234", "password1234", 12)).toBeNull();
  });
});
