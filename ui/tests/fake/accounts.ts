// The hub's account side, faked for the UI tests: sign-up as each server's policy allows, passwords with
// the hub's rules (a crude stand-in for zxcvbn that refuses the usual suspects with the hub's wording),
// sign-in with a second factor, the devices list, changing the password and two-factor set-up. Errors
// have the codes and messages the engine gives (see crates/hub/src/account and crates/client).
//
// The fake authenticator: FAKE_TOTP ("123456") is the right code, but only once per 30-second step, like
// the hub's replay guard (`nextTotpStep()` is "wait for the next code"); recovery codes are single use.
import type { CommandError, CommandErrorCode, DeviceSession, Registration, RegistrationInfo, TwoFactorSetup, TwoFactorStatus } from "../../src/bindings/app";
import type { UserSummary } from "../../src/bindings/protocol";

export const FAKE_TOTP = "123456";
export const FAKE_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
/** The recovery codes of accounts configured with two-factor already on. */
export const FAKE_RECOVERY = ["ab3de-f4ghj", "km5np-q6rst", "uv7wx-y8zab", "cd9ef-g2hjk", "mn3pq-r4stu", "vw5xy-z6abc", "de7fg-h8jkm", "np9qr-s2tuv", "wx3yz-a4bcd", "ef5gh-j6kmn"];
export const MAX_FAILED_CODES = 5;

export interface FakePolicy {
  registration: Registration;
  require_two_factor: boolean;
  password_min_chars: number;
  /** Invite codes the operator made (each works once). */
  invites: string[];
}

export interface FakeAccount {
  user: UserSummary;
  password: string;
  /** Two-factor on: the secret; pending: set up, not yet confirmed with a code. */
  secret: string | null;
  pending: string | null;
  recovery: string[];
  /** The last TOTP step used (the replay guard). */
  lastStep: number;
  failedCodes: number;
  devices: DeviceSession[];
}

type Code = CommandErrorCode | "two_factor_required";
function err(code: Code, message: string): CommandError {
  return { code: code as CommandErrorCode, message };
}

/** Server addresses compare without case and trailing slashes. */
export function serverKey(server: string): string {
  return server.trim().toLowerCase().replace(/\/+$/, "");
}

const COMMON = ["password", "password1", "password123", "password1234", "passwordpassword", "qwerty", "qwertyuiop", "qwertyuiop123", "123456789012", "letmein", "iloveyou", "trustno1", "monkey", "dragon", "sunshine", "football"];

/** The hub's check of a new password (crates/hub/src/account/password.rs), with a crude estimate. */
export function checkNewPassword(password: string, username: string, displayName: string, minChars: number): CommandError | null {
  const n = [...password].length;
  if (n < minChars) return err("invalid", `password: at least ${minChars} characters`);
  if (n > 256) return err("invalid", "password: at most 256 characters");
  const lower = password.toLowerCase();
  const stripped = lower.replace(/[^a-z]/g, "");
  let warning: string | null = null;
  if (COMMON.includes(lower) || COMMON.some((c) => stripped === c)) warning = "This is a very common password.";
  else if (new Set(lower).size <= 3) warning = 'Repeats like "aaa" are easy to guess.';
  else if ([username, ...displayName.toLowerCase().split(/\s+/)].some((w) => w.length >= 3 && lower.includes(w.toLowerCase())))
    warning = "Names and surnames by themselves are easy to guess.";
  const weak = warning !== null || new Set(lower).size < 6;
  if (weak) {
    return err("invalid", `password: too easy to guess${warning ? ` (${warning})` : ""}; a few unrelated words or a longer phrase work well`);
  }
  return null;
}

export class FakeAccounts {
  accounts = new Map<string, FakeAccount>();
  policies = new Map<string, FakePolicy>();
  /** Where `registration_info` and `sign_up` fail to connect (`network`). */
  unreachable = new Set<string>(["https://unreachable.example"]);
  /** Servers that have no tenant of that name (`not_found`). */
  noTenant = new Set<string>(["https://nowhere.example"]);
  /** The device this app runs on: its session id while signed in. */
  currentDevice: string | null = null;
  /**
   * The authenticator's 30-second step, moved only by `nextTotpStep()`: a test that signs in twice
   * "within the same 30 s" must not see the real clock cross a step boundary between the two (it did,
   * under load, and the replayed code was taken).
   */
  totpStep = 0;
  private nextId = 100;
  private nextSession = 1;
  private nextCodes = 0;
  readonly now: number;

  constructor(users: UserSummary[], password: string, now: number) {
    this.now = now;
    for (const u of users) this.accounts.set(u.username, this.newAccount(u, password, true));
  }

  private newAccount(user: UserSummary, password: string, seeded: boolean): FakeAccount {
    const day = 86_400_000;
    const devices: DeviceSession[] = seeded
      ? [
          { id: `s-${user.username}-phone`, device: "Pixel 8", platform: "android", ip: "203.0.113.24", created_at: this.now - 40 * day, last_seen_at: this.now - 2 * 3_600_000, current: false },
          { id: `s-${user.username}-work`, device: "WORK-LAPTOP", platform: "windows", ip: "198.51.100.7", created_at: this.now - 120 * day, last_seen_at: this.now - 3 * day, current: false },
        ]
      : [];
    return { user, password, secret: null, pending: null, recovery: [], lastStep: -1, failedCodes: 0, devices };
  }

  policy(server: string): FakePolicy {
    return this.policies.get(serverKey(server)) ?? { registration: "open", require_two_factor: false, password_min_chars: 12, invites: [] };
  }

  setPolicy(server: string, p: Partial<FakePolicy>): void {
    this.policies.set(serverKey(server), { ...this.policy(server), ...p });
  }

  account(username: string): FakeAccount | undefined {
    return this.accounts.get(username.trim().toLowerCase());
  }

  /** Turns two-factor on for an account (as if set up on another device). */
  enableTwoFactor(username: string): void {
    const a = this.account(username);
    if (!a) return;
    a.secret = FAKE_SECRET;
    a.recovery = [...FAKE_RECOVERY];
  }

  step(): number {
    return this.totpStep;
  }

  nextTotpStep(): void {
    this.totpStep++;
  }

  private reachable(server: string): string {
    const s = server.trim();
    if (!/^https?:\/\/[^\s/]+/i.test(s)) throw err("invalid_input", "enter the server address, like https://hub.example.com");
    if (this.unreachable.has(serverKey(s))) throw err("network", "couldn't reach the server (connection refused)");
    if (this.noTenant.has(serverKey(s))) throw err("not_found", "tenant not found");
    return s;
  }

  registrationInfo(server: string): RegistrationInfo {
    this.reachable(server);
    const p = this.policy(server);
    return { registration: p.registration, require_two_factor: p.require_two_factor, password_min_chars: p.password_min_chars };
  }

  /** A second factor: the fake TOTP once per step, or an unused recovery code. Throws what the hub says. */
  verify(a: FakeAccount, code: string): void {
    const c = code.trim();
    if (a.failedCodes >= MAX_FAILED_CODES) throw err("auth", "too many failed attempts; wait a few minutes and try again");
    if (/^\d{6}$/.test(c)) {
      if (c === FAKE_TOTP) {
        if (this.step() <= a.lastStep) throw err("unauthorized", "that code was already used; wait for the next one");
        a.lastStep = this.step();
        a.failedCodes = 0;
        return;
      }
    } else {
      const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, "");
      const i = a.recovery.findIndex((r) => norm(r) === norm(c));
      if (i >= 0) {
        a.recovery.splice(i, 1);
        a.failedCodes = 0;
        return;
      }
    }
    a.failedCodes++;
    if (a.failedCodes >= MAX_FAILED_CODES) throw err("auth", "too many failed attempts; wait a few minutes and try again");
    throw err("unauthorized", "wrong two-factor code");
  }

  /** `sign_in`: the password, then the code when two-factor is on. Returns the account and whether it must enrol. */
  signIn(server: string, username: string, password: string, code: string | null): { account: FakeAccount; mustEnrol: boolean } {
    this.reachable(server);
    const a = this.account(username);
    if (!a || a.password !== password) throw err("auth", "wrong username or password");
    if (a.secret) {
      if (!code?.trim()) throw err("two_factor_required", "two-factor code required");
      this.verify(a, code);
    }
    this.startDevice(a);
    return { account: a, mustEnrol: this.policy(server).require_two_factor && !a.secret };
  }

  /**
   * `sign_up`, in the hub's order (crates/hub/src/http/auth.rs): username, password, tenant, then who may
   * sign up (before the username is looked up: a closed tenant does not say which names are taken), the
   * account (taken: `conflict`), then the invite code itself.
   */
  signUp(server: string, username: string, displayName: string, password: string, invite: string | null): { account: FakeAccount; mustEnrol: boolean } {
    const s = server.trim();
    if (!/^https?:\/\/[^\s/]+/i.test(s)) throw err("invalid_input", "enter the server address, like https://hub.example.com");
    if (this.unreachable.has(serverKey(s))) throw err("network", "couldn't reach the server (connection refused)");
    const name = username.trim().toLowerCase();
    if (!/^[a-z0-9_.-]{2,32}$/.test(name)) throw err("invalid", "username: 2-32 characters of a-z, 0-9, '_', '.', '-'");
    const p = this.policy(server);
    const weak = checkNewPassword(password, name, displayName, p.password_min_chars);
    if (weak) throw weak;
    if (this.noTenant.has(serverKey(s))) throw err("not_found", "tenant not found");
    const code = invite?.trim() ?? "";
    if (p.registration === "closed") throw err("forbidden", "sign-up is closed here; ask the operator of this hub for an account or an invite");
    if (p.registration === "invite" && !code) throw err("forbidden", "sign-up here needs an invite code from the operator");
    if ([...displayName.trim()].length > 64) throw err("invalid", "display_name: at most 64 characters");
    if (this.accounts.has(name)) throw err("conflict", "username already taken");
    if (p.registration === "invite") {
      const i = p.invites.indexOf(code);
      if (i < 0) throw err("forbidden", "this invite code is not valid (used, expired or mistyped)");
      p.invites.splice(i, 1);
    }
    const user: UserSummary = { id: this.nextId++, username: name, display_name: displayName.trim() || name };
    const a = this.newAccount(user, password, false);
    this.accounts.set(name, a);
    this.startDevice(a);
    return { account: a, mustEnrol: p.require_two_factor };
  }

  /** This app's session on the hub: a new device row. */
  private startDevice(a: FakeAccount): void {
    const id = `s-this-${this.nextSession++}`;
    a.devices = [{ id, device: "tally-test", platform: "linux", ip: "127.0.0.1", created_at: Date.now(), last_seen_at: Date.now(), current: false }, ...a.devices];
    this.currentDevice = id;
  }

  /** A session that was already signed in when the app started. */
  resume(username: string): void {
    const a = this.account(username);
    if (!a) return;
    const id = `s-this-0`;
    if (!a.devices.some((d) => d.id === id)) {
      a.devices = [{ id, device: "tally-test", platform: "linux", ip: "127.0.0.1", created_at: this.now - 10 * 86_400_000, last_seen_at: this.now, current: false }, ...a.devices];
    }
    this.currentDevice = id;
  }

  /** The hub forgets this device's session (sign-out). */
  endDevice(a: FakeAccount | undefined): void {
    if (a && this.currentDevice) a.devices = a.devices.filter((d) => d.id !== this.currentDevice);
    this.currentDevice = null;
  }

  devices(a: FakeAccount): DeviceSession[] {
    return a.devices.map((d) => ({ ...d, current: d.id === this.currentDevice, last_seen_at: d.id === this.currentDevice ? Date.now() : d.last_seen_at }));
  }

  signOutDevice(a: FakeAccount, id: string): void {
    if (id === this.currentDevice) throw err("invalid", "that is this device; sign out instead");
    if (!a.devices.some((d) => d.id === id)) throw err("not_found", "session not found");
    a.devices = a.devices.filter((d) => d.id !== id);
  }

  signOutOthers(a: FakeAccount): number {
    const before = a.devices.length;
    a.devices = a.devices.filter((d) => d.id === this.currentDevice);
    return before - a.devices.length;
  }

  /** A security change asks for the user again: the password, and a code while two-factor is on. */
  private prove(a: FakeAccount, password: string, code: string | null): void {
    if (!password) throw err("invalid", "enter your current password");
    if (password !== a.password) throw err("unauthorized", "the current password is wrong");
    if (!a.secret) return;
    if (!code?.trim()) throw err("two_factor_required", "enter a code from your authenticator app (or a recovery code)");
    this.verify(a, code);
  }

  changePassword(a: FakeAccount, server: string, current: string, next: string, code: string | null): number {
    const weak = checkNewPassword(next, a.user.username, a.user.display_name, this.policy(server).password_min_chars);
    if (weak) throw weak;
    this.prove(a, current, code);
    a.password = next;
    return this.signOutOthers(a);
  }

  status(a: FakeAccount, server: string): TwoFactorStatus {
    return { enabled: a.secret !== null, recovery_codes_left: a.secret ? a.recovery.length : 0, required: this.policy(server).require_two_factor };
  }

  setup(a: FakeAccount, password: string): TwoFactorSetup {
    if (a.secret) throw err("conflict", "two-factor is already on; turn it off first");
    this.prove(a, password, null);
    a.pending = FAKE_SECRET;
    const label = encodeURIComponent(`Tally:${a.user.username}`);
    return { secret: FAKE_SECRET, otpauth_url: `otpauth://totp/${label}?secret=${FAKE_SECRET}&issuer=Tally&algorithm=SHA1&digits=6&period=30` };
  }

  enable(a: FakeAccount, code: string): string[] {
    if (!a.pending) throw err("invalid", "start two-factor set-up first");
    if (code.trim() !== FAKE_TOTP || this.step() <= a.lastStep) {
      throw err("invalid", "that code does not match; check the time on your phone and try again");
    }
    a.lastStep = this.step();
    a.secret = a.pending;
    a.pending = null;
    return this.newCodes(a);
  }

  recoveryCodes(a: FakeAccount, password: string, code: string): string[] {
    if (!a.secret) throw err("invalid", "two-factor is not on");
    this.prove(a, password, code);
    return this.newCodes(a);
  }

  private newCodes(a: FakeAccount): string[] {
    const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
    const seq = this.nextCodes++;
    a.recovery = Array.from({ length: 10 }, (_, i) => {
      const chars = Array.from({ length: 10 }, (_, k) => alphabet[(i * 7 + k * 13 + seq * 3 + ((i * k) % 5)) % alphabet.length]).join("");
      return `${chars.slice(0, 5)}-${chars.slice(5)}`;
    });
    return [...a.recovery];
  }

  disable(a: FakeAccount, server: string, password: string, code: string): void {
    if (this.policy(server).require_two_factor) throw err("forbidden", "this hub requires two-factor sign-in; it can't be turned off");
    if (!a.secret) throw err("invalid", "two-factor is not on");
    this.prove(a, password, code);
    a.secret = null;
    a.pending = null;
    a.recovery = [];
  }
}
