// Sign-in with a second factor, sign-up as the server allows, and Settings → Security, against the fake
// backend's accounts (tests/fake/accounts.ts).
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { clearMocks } from "@tauri-apps/api/mocks";
import { afterEach, describe, expect, it, vi } from "vitest";
import SignIn from "../../src/views/SignIn.svelte";
import Settings from "../../src/views/Settings.svelte";
import { app } from "../../src/lib/store.svelte";
import { FAKE_RECOVERY, FAKE_TOTP } from "../fake/accounts";
import { installFake } from "./helpers";

afterEach(() => {
  cleanup();
  clearMocks();
  localStorage.clear();
  app.toasts = [];
});

const noop = () => {};
const type = (id: string, value: string) => fireEvent.input(screen.getByTestId(id), { target: { value } });
const calls = (fake: ReturnType<typeof installFake>, cmd: string) => fake.calls.filter((c) => c.cmd === `plugin:tally|${cmd}`).map((c) => c.args);

describe("sign-in with two-factor", () => {
  it("asks for the code after the password, then signs in with the same credentials and the code", async () => {
    const fake = installFake({ signedIn: false, twoFactor: ["bob"] });
    const onsignedin = vi.fn();
    render(SignIn, { onsignedin });
    await type("signin-username", "bob");
    await type("signin-password", "tally-demo");
    await fireEvent.click(screen.getByTestId("signin-submit"));
    const input = (await screen.findByTestId("signin-code")) as HTMLInputElement;
    expect(input.getAttribute("autocomplete")).toBe("one-time-code");
    expect(input.getAttribute("inputmode")).toBe("numeric");
    await waitFor(() => expect(document.activeElement).toBe(input));

    await type("signin-code", "654321");
    await fireEvent.click(screen.getByTestId("signin-code-submit"));
    expect((await screen.findByTestId("signin-error")).textContent).toContain("isn't right");
    expect(input.value).toBe("");

    await type("signin-code", "123 456");
    await fireEvent.click(screen.getByTestId("signin-code-submit"));
    await waitFor(() => expect(onsignedin).toHaveBeenCalled());
    expect(calls(fake, "sign_in").at(-1)).toEqual({ server: "http://127.0.0.1:8787", username: "bob", password: "tally-demo", code: FAKE_TOTP });
  });

  it("takes a recovery code, once", async () => {
    const fake = installFake({ signedIn: false, twoFactor: ["bob"] });
    const onsignedin = vi.fn();
    render(SignIn, { onsignedin });
    await type("signin-username", "bob");
    await type("signin-password", "tally-demo");
    await fireEvent.click(screen.getByTestId("signin-submit"));
    await screen.findByTestId("signin-code");
    await fireEvent.click(screen.getByTestId("signin-use-recovery"));
    const input = screen.getByTestId("signin-code") as HTMLInputElement;
    expect(input.getAttribute("inputmode")).toBe("text");
    await type("signin-code", FAKE_RECOVERY[0].toUpperCase());
    await fireEvent.click(screen.getByTestId("signin-code-submit"));
    await waitFor(() => expect(onsignedin).toHaveBeenCalled());
    expect(fake.accounts.account("bob")?.recovery).not.toContain(FAKE_RECOVERY[0]);
  });

  it("Back returns to the password", async () => {
    installFake({ signedIn: false, twoFactor: ["bob"] });
    render(SignIn, { onsignedin: noop });
    await type("signin-username", "bob");
    await type("signin-password", "tally-demo");
    await fireEvent.click(screen.getByTestId("signin-submit"));
    await screen.findByTestId("signin-code");
    await fireEvent.click(screen.getByTestId("signin-back"));
    const password = screen.getByTestId("signin-password") as HTMLInputElement;
    expect(password.value).toBe("");
    expect((screen.getByTestId("signin-username") as HTMLInputElement).value).toBe("bob");
    await waitFor(() => expect(document.activeElement).toBe(password));
  });
});

describe("sign-up", () => {
  it("open: creates the account with display name and password, and signs in", async () => {
    const fake = installFake({ signedIn: false });
    const onsignedin = vi.fn();
    render(SignIn, { onsignedin });
    await fireEvent.click(screen.getByTestId("signup-open"));
    await screen.findByTestId("signup-username", {}, { timeout: 2000 });
    expect(screen.queryByTestId("signup-invite")).toBeNull();
    await type("signup-username", "zoe");
    await type("signup-display-name", "Zoe Zhang");
    await type("signup-password", "plum-otter-kettle-93");
    await type("signup-confirm", "plum-otter-kettle-94");
    await fireEvent.click(screen.getByTestId("signup-submit"));
    expect((await screen.findByTestId("signup-error-confirm")).textContent).toContain("don't match");
    expect(calls(fake, "sign_up")).toHaveLength(0);
    await type("signup-confirm", "plum-otter-kettle-93");
    await fireEvent.click(screen.getByTestId("signup-submit"));
    await waitFor(() => expect(onsignedin).toHaveBeenCalledWith(expect.objectContaining({ user: expect.objectContaining({ username: "zoe", display_name: "Zoe Zhang" }) })));
    expect(calls(fake, "sign_up")[0]).toEqual({ server: "http://127.0.0.1:8787", username: "zoe", display_name: "Zoe Zhang", password: "plum-otter-kettle-93", invite: null });
  });

  it("closed: says so, with no form", async () => {
    installFake({ signedIn: false, servers: { "http://127.0.0.1:8787": { registration: "closed" } } });
    render(SignIn, { onsignedin: noop });
    await fireEvent.click(screen.getByTestId("signup-open"));
    expect((await screen.findByTestId("signup-closed", {}, { timeout: 2000 })).textContent).toContain("Sign-up is closed on this server");
    expect(screen.queryByTestId("signup-submit")).toBeNull();
  });

  it("a weak password: the hub's reason under the password", async () => {
    installFake({ signedIn: false });
    render(SignIn, { onsignedin: noop });
    await fireEvent.click(screen.getByTestId("signup-open"));
    await screen.findByTestId("signup-username", {}, { timeout: 2000 });
    await type("signup-username", "zoe");
    await type("signup-password", "password1234");
    await type("signup-confirm", "password1234");
    await fireEvent.click(screen.getByTestId("signup-submit"));
    const error = await screen.findByTestId("signin-error");
    expect(error.textContent).toContain("Too easy to guess");
    expect(screen.getByTestId("signup-password").getAttribute("aria-invalid")).toBe("true");
  });
});

describe("Settings → Security", () => {
  it("signing out wipes this device's data unless 'Keep offline data' is ticked", async () => {
    const fake = installFake({});
    render(Settings);
    await fireEvent.click(await screen.findByTestId("sign-out"));
    const keep = screen.getByTestId("sign-out-keep") as HTMLInputElement;
    expect(keep.checked).toBe(false);
    await fireEvent.click(screen.getByTestId("sign-out-confirm"));
    await waitFor(() => expect(fake.signOuts).toEqual([{ wipe: true }]));
  });

  it("the security parts say they need the connection when offline", async () => {
    installFake({ conn: { state: "offline", since: Date.now() - 60_000 } });
    render(Settings);
    expect((await screen.findByTestId("2fa-error")).textContent).toContain("offline");
    expect((await screen.findByTestId("devices-error")).textContent).toContain("offline");
  });

  it("turning on two-factor: the password again, a QR code and the key, then ten recovery codes", async () => {
    const fake = installFake({});
    render(Settings);
    await fireEvent.click(await screen.findByTestId("2fa-turn-on"));
    await type("2fa-password", "not-it");
    await fireEvent.click(screen.getByTestId("2fa-password-continue"));
    await waitFor(() => expect(screen.getByTestId("2fa-error-msg").textContent).toContain("isn't your current password"));
    expect(fake.accounts.account("alice")?.pending).toBeNull();
    await type("2fa-password", "tally-demo");
    await fireEvent.click(screen.getByTestId("2fa-password-continue"));
    await waitFor(() => expect(document.querySelector('[data-testid="qr-code"] svg path')).not.toBeNull(), { timeout: 3000 });
    expect(screen.getByTestId("2fa-secret").textContent).toBe("JBSW Y3DP EHPK 3PXP JBSW Y3DP EHPK 3PXP");
    await type("2fa-code", FAKE_TOTP);
    await fireEvent.click(screen.getByTestId("2fa-enable"));
    const codes = await screen.findByTestId("2fa-recovery-codes");
    expect(codes.querySelectorAll("li")).toHaveLength(10);
    expect(new Set([...codes.querySelectorAll("li")].map((li) => li.textContent)).size).toBe(10);
    expect((screen.getByTestId("2fa-done") as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByTestId("2fa-saved"));
    await fireEvent.click(screen.getByTestId("2fa-done"));
    await waitFor(() => expect(screen.getByTestId("2fa-status").dataset.enabled).toBe("true"));
    expect(screen.getByTestId("2fa-recovery-left").textContent).toContain("10 recovery codes left");
    expect(fake.accounts.account("alice")?.secret).not.toBeNull();
  });
});
