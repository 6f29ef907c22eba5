import { clearMocks, mockIPC } from "@tauri-apps/api/mocks";
import { emit } from "@tauri-apps/api/event";
import { afterEach, describe, expect, it } from "vitest";
import type { AppEvent } from "../bindings/app";
import * as api from "./api";

afterEach(() => clearMocks());

describe("toCommandError", () => {
  it("keeps a CommandError", () => {
    expect(api.toCommandError({ code: "insufficient_funds", message: "available 12" })).toMatchObject({ code: "insufficient_funds", message: "available 12" });
  });
  it("normalises strings, JSON strings, Errors and junk", () => {
    expect(api.toCommandError("command foo not found")).toMatchObject({ code: "ipc", message: "command foo not found" });
    expect(api.toCommandError('{"code":"offline","message":"no network"}')).toMatchObject({ code: "offline", message: "no network" });
    expect(api.toCommandError(new TypeError("boom"))).toMatchObject({ code: "ipc", message: "boom" });
    expect(api.toCommandError(undefined)).toMatchObject({ code: "unknown" });
    expect(api.toCommandError(42)).toMatchObject({ code: "unknown", message: "42" });
    expect(api.toCommandError({ message: "only a message" })).toMatchObject({ code: "unknown", message: "only a message" });
    expect(api.toCommandError({ code: "auth" })).toMatchObject({ code: "auth", message: "auth" });
  });
  it("is an Error with code and message", () => {
    const e = api.toCommandError({ code: "x", message: "y" });
    expect(e).toBeInstanceOf(Error);
    expect(Object.keys({ code: e.code, message: e.message })).toEqual(["code", "message"]);
  });
});

describe("commands", () => {
  it("invoke plugin:tally|<name> with snake_case arguments", async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      return null;
    });
    await api.messages(7, 120, 50);
    await api.markRead(7, 130);
    await api.transactions(
      { from: null, to: null, direction: null, kinds: [], counterparty: null, min_minor: null, max_minor: null, currency: null, search: null },
      { created_at: 5, id: 9 },
      100,
    );
    await api.sendMoney({ to: "bob", amount: { minor: 2500, currency: "USD" }, memo: "Pizza" });
    await api.setFocusedView("chat", 7);
    await api.signOut(true);
    expect(seen).toEqual([
      ["plugin:tally|messages", { room: 7, before_seq: 120, limit: 50 }],
      ["plugin:tally|mark_read", { room: 7, up_to: 130 }],
      ["plugin:tally|transactions", expect.objectContaining({ cursor: { created_at: 5, id: 9 }, limit: 100 })],
      ["plugin:tally|send_money", { req: { to: "bob", amount: { minor: 2500, currency: "USD" }, memo: "Pizza" } }],
      ["plugin:tally|set_focused_view", { view: "chat", room: 7 }],
      ["plugin:tally|sign_out", { wipe: true }],
    ]);
  });

  it("account commands: snake_case arguments, code and invite as null when not given", async () => {
    const seen: [string, unknown][] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      return null;
    });
    await api.signIn("https://hub.example", "alice", "pw");
    await api.signIn("https://hub.example", "alice", "pw", "123456");
    await api.registrationInfo("https://hub.example");
    await api.signUp("https://hub.example", "zoe", "Zoe Zhang", "plum-otter-kettle-93", null);
    await api.devices();
    await api.signOutDevice("s-1");
    await api.signOutOtherDevices();
    await api.changePassword("old", "new one", null);
    await api.twoFactorStatus();
    await api.twoFactorSetup("old");
    await api.twoFactorEnable("123456");
    await api.twoFactorDisable("old", "abcde-23456");
    await api.twoFactorRecoveryCodes("old", "123456");
    expect(seen).toEqual([
      ["plugin:tally|sign_in", { server: "https://hub.example", username: "alice", password: "pw", code: null }],
      ["plugin:tally|sign_in", { server: "https://hub.example", username: "alice", password: "pw", code: "123456" }],
      ["plugin:tally|registration_info", { server: "https://hub.example" }],
      ["plugin:tally|sign_up", { server: "https://hub.example", username: "zoe", display_name: "Zoe Zhang", password: "plum-otter-kettle-93", invite: null }],
      ["plugin:tally|devices", {}],
      ["plugin:tally|sign_out_device", { id: "s-1" }],
      ["plugin:tally|sign_out_other_devices", {}],
      ["plugin:tally|change_password", { current: "old", new: "new one", code: null }],
      ["plugin:tally|two_factor_status", {}],
      ["plugin:tally|two_factor_setup", { password: "old" }],
      ["plugin:tally|two_factor_enable", { code: "123456" }],
      ["plugin:tally|two_factor_disable", { password: "old", code: "abcde-23456" }],
      ["plugin:tally|two_factor_recovery_codes", { password: "old", code: "123456" }],
    ]);
  });

  it("rejects with a CommandError shape whatever Rust or Tauri threw", async () => {
    mockIPC((cmd) => {
      if (cmd === "plugin:tally|balances") throw { code: "not_signed_in", message: "sign in first" };
      throw "tally.rooms not allowed";
    });
    await expect(api.balances()).rejects.toMatchObject({ code: "not_signed_in", message: "sign in first" });
    await expect(api.rooms()).rejects.toMatchObject({ code: "ipc", message: "tally.rooms not allowed" });
  });

  it("describeError says what happened and what to do", () => {
    expect(api.describeError({ code: "insufficient_funds", message: "x" })).toMatch(/Lower the amount/);
    expect(api.describeError({ code: "invalid", message: "memo over 280 bytes" })).toBe("memo over 280 bytes");
    expect(api.describeError({ code: "weird", message: "Odd thing" })).toBe("Odd thing");
    expect(api.describeError({ code: "insecure_server", message: "x" })).toMatch(/https:\/\//);
    expect(api.describeError({ code: "auth", message: "too many failed attempts; wait a few minutes and try again" })).toMatch(/Too many failed attempts/);
    expect(api.describeError({ code: "auth", message: "wrong username or password" })).toBe("Wrong username or password.");
    expect(api.describeError({ code: "network", message: "the server's certificate is not trusted (UnknownIssuer)" })).toMatch(
      /not trusted .*install its CA/,
    );
  });
});

describe("onAppEvent", () => {
  it("delivers tally://event payloads", async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const got: AppEvent[] = [];
    const un = await api.onAppEvent((e) => got.push(e));
    const ev: AppEvent = { type: "changed", changes: [{ topic: "balances" }, { topic: "messages", room: 7 }] };
    await emit(api.EVENT_NAME, ev);
    await emit("other", { type: "toast" });
    expect(got).toEqual([ev]);
    un();
  });
});
