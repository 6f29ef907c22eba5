import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it } from "vitest";
import * as api from "./api";
import {
  attemptsLeftFrom,
  attemptsText,
  attemptsUrgent,
  lockRequest,
  lockSetError,
  lockSummary,
  minutesLabel,
  minutesOptions,
  minutesShort,
  newPinProblem,
  pinDigits,
  pinProblem,
  unlockOutcome,
} from "./lock";
import { lock, refreshLock } from "./lock.svelte";

afterEach(() => {
  clearMocks();
  lock.state = undefined;
});

describe("PINs", () => {
  it("keeps digits only, at most 12", () => {
    expect(pinDigits("12a3 4-5")).toBe("12345");
    expect(pinDigits("1234567890123456")).toBe("123456789012");
  });
  it("are 4 to 12 digits, as the engine checks", () => {
    expect(pinProblem("")).toBe("Enter a PIN.");
    expect(pinProblem("123")).toBe("Use 4 to 12 digits.");
    expect(pinProblem("12a4")).toBe("Use digits only.");
    expect(pinProblem("1234567890123")).toBe("Use 4 to 12 digits.");
    expect(pinProblem("4821")).toBeNull();
    expect(pinProblem("482193057712")).toBeNull();
  });
  it("a new one is typed twice and is not the first one anyone tries", () => {
    expect(newPinProblem("12", "12")).toEqual({ field: "pin", text: "Use 4 to 12 digits." });
    expect(newPinProblem("1111", "1111")?.field).toBe("pin");
    expect(newPinProblem("1234", "1234")?.text).toContain("run of digits");
    expect(newPinProblem("987654", "987654")?.text).toContain("run of digits");
    expect(newPinProblem("4821", "")).toEqual({ field: "confirm", text: "Type the PIN again to confirm it." });
    expect(newPinProblem("4821", "4812")).toEqual({ field: "confirm", text: "The PINs don't match. Type the same PIN twice." });
    expect(newPinProblem("4821", "4821")).toBeNull();
    expect(newPinProblem("1243", "1243")).toBeNull();
  });
});

describe("minutes", () => {
  it("reads as people say it", () => {
    expect(minutesLabel(1)).toBe("1 minute");
    expect(minutesLabel(5)).toBe("5 minutes");
    expect(minutesLabel(60)).toBe("1 hour");
    expect(minutesLabel(120)).toBe("2 hours");
    expect(minutesLabel(90)).toBe("90 minutes");
    expect([1, 15, 60, 120].map(minutesShort)).toEqual(["1 min", "15 min", "1 hour", "2 h"]);
  });
  it("offers 1, 5, 15 and 60, and the one in use when it is another", () => {
    expect(minutesOptions(null)).toEqual([1, 5, 15, 60]);
    expect(minutesOptions(5)).toEqual([1, 5, 15, 60]);
    expect(minutesOptions(30)).toEqual([1, 5, 15, 30, 60]);
    expect(minutesOptions(240)).toEqual([1, 5, 15, 60, 240]);
    expect(minutesOptions(999)).toEqual([1, 5, 15, 60]);
  });
  it("Settings says what the lock does", () => {
    expect(lockSummary(true, 15)).toBe("Asks for your PIN when Tally starts and after 15 minutes out of sight.");
    expect(lockSummary(false, 5)).toContain("Ask for a PIN");
  });
});

describe("unlocking", () => {
  it("reads the attempts left from the engine's message", () => {
    expect(attemptsLeftFrom("wrong PIN; 9 attempts left before this device's data is deleted")).toBe(9);
    expect(attemptsLeftFrom("wrong PIN; 1 attempt left before this device's data is deleted")).toBe(1);
    expect(attemptsLeftFrom("Tally is locked: enter your PIN")).toBeNull();
  });
  it("says how many are left, and warns when few are", () => {
    expect(attemptsText(9)).toBe("Wrong PIN. 9 attempts left before Tally signs you out and deletes this device's data.");
    expect(attemptsText(1)).toBe("Wrong PIN. 1 attempt left before Tally signs you out and deletes this device's data.");
    expect(attemptsUrgent(9)).toBe(false);
    expect(attemptsUrgent(3)).toBe(true);
  });
  it("tells a wrong PIN from the tenth (signed out, data deleted) and from other failures", () => {
    expect(unlockOutcome({ code: "locked", message: "wrong PIN; 7 attempts left before this device's data is deleted" })).toEqual({ kind: "wrong", left: 7 });
    expect(unlockOutcome({ code: "auth", message: "ten wrong PINs: you were signed out and this device's data was deleted" })).toEqual({ kind: "wiped" });
    expect(unlockOutcome({ code: "keychain_unavailable", message: "no keychain" })).toEqual({ kind: "error" });
  });
});

describe("the Settings form", () => {
  const f = (over: Partial<{ current: string; pin: string; confirm: string; minutes: number }> = {}) => ({ current: "", pin: "", confirm: "", minutes: 5, ...over });

  it("turning on takes a new PIN twice and the minutes", () => {
    expect(lockRequest("on", f({ pin: "4821" }), 5)).toEqual({ field: "confirm", text: "Type the PIN again to confirm it." });
    expect(lockRequest("on", f({ pin: "4821", confirm: "4821", minutes: 15 }), 5)).toEqual({ ok: { pin: "4821", after_minutes: 15, current: null } });
  });
  it("changing needs the current PIN and keeps it when no new one is typed", () => {
    expect(lockRequest("change", f({ minutes: 60 }), 5)).toEqual({ field: "current", text: "Enter your current PIN." });
    expect(lockRequest("change", f({ current: "4821", minutes: 60 }), 5)).toEqual({ ok: { pin: "4821", after_minutes: 60, current: "4821" } });
    expect(lockRequest("change", f({ current: "4821", pin: "7306", confirm: "7306" }), 5)).toEqual({ ok: { pin: "7306", after_minutes: 5, current: "4821" } });
    expect(lockRequest("change", f({ current: "4821", pin: "4821", confirm: "4821" }), 5)).toEqual({ field: "pin", text: "The new PIN is the same as the current one." });
    expect(lockRequest("change", f({ current: "4821", pin: "7306" }), 5)).toMatchObject({ field: "confirm" });
    expect(lockRequest("change", f({ current: "4821" }), 5)).toMatchObject({ field: null });
  });
  it("turning off needs the current PIN", () => {
    expect(lockRequest("off", f(), 15)).toEqual({ field: "current", text: "Enter your current PIN." });
    expect(lockRequest("off", f({ current: "12" }), 15)).toEqual({ field: "current", text: "That isn't your current PIN." });
    expect(lockRequest("off", f({ current: "4821" }), 15)).toEqual({ ok: { pin: null, after_minutes: 15, current: "4821" } });
  });
  it("puts the engine's refusals on their fields", () => {
    const d = () => "described";
    expect(lockSetError({ code: "invalid_input", message: "the current PIN is wrong" }, d)).toEqual({ field: "current", text: "That isn't your current PIN." });
    expect(lockSetError({ code: "invalid_input", message: "the PIN is 4 to 12 digits" }, d)).toEqual({ field: "pin", text: "The PIN is 4 to 12 digits." });
    expect(lockSetError({ code: "invalid_input", message: "lock after 1 to 240 minutes" }, d)).toEqual({ field: null, text: "Lock after 1 to 240 minutes." });
    expect(lockSetError({ code: "keychain_unavailable", message: "x" }, d)).toEqual({ field: null, text: "described" });
  });
});

describe("lock state", () => {
  it("is re-read when any command is refused as locked", async () => {
    let locked = false;
    const seen: string[] = [];
    mockIPC((cmd) => {
      seen.push(cmd);
      if (cmd === "plugin:tally|app_lock_state") return { enabled: true, locked, after_minutes: 5, attempts_left: 10 };
      if (locked) throw { code: "locked", message: "Tally is locked: enter your PIN" };
      return [];
    });
    await refreshLock();
    expect(lock.locked).toBe(false);
    locked = true;
    await expect(api.balances()).rejects.toMatchObject({ code: "locked" });
    await new Promise((r) => setTimeout(r, 0));
    expect(seen.filter((c) => c === "plugin:tally|app_lock_state")).toHaveLength(2);
    expect(lock.locked).toBe(true);
    expect(lock.state).toEqual({ enabled: true, locked: true, after_minutes: 5, attempts_left: 10 });
  });
  it("a wrong PIN (also `locked`) does not ask again by itself", async () => {
    const seen: string[] = [];
    mockIPC((cmd) => {
      seen.push(cmd);
      throw { code: "locked", message: "wrong PIN; 9 attempts left before this device's data is deleted" };
    });
    await expect(api.unlock("0000")).rejects.toMatchObject({ code: "locked" });
    expect(seen).toEqual(["plugin:tally|unlock"]);
  });
  it("an engine without the lock has nothing to lock", async () => {
    mockIPC(() => {
      throw "command app_lock_state not found";
    });
    expect(await refreshLock()).toBeNull();
    expect(lock.state).toBeNull();
    expect(lock.locked).toBe(false);
  });
  it("sends set_app_lock, unlock and lock_now with snake_case arguments", async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      return null;
    });
    await api.setAppLock("4821", 15, null);
    await api.setAppLock(null, 15, "4821");
    await api.unlock("4821");
    await api.lockNow();
    expect(seen).toEqual([
      ["plugin:tally|set_app_lock", { pin: "4821", after_minutes: 15, current: null }],
      ["plugin:tally|set_app_lock", { pin: null, after_minutes: 15, current: "4821" }],
      ["plugin:tally|unlock", { pin: "4821" }],
      ["plugin:tally|lock_now", {}],
    ]);
  });
});
