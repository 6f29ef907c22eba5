// The app lock's state, one copy for the whole app: what `app_lock_state` last said. Re-read at start,
// on the `lock` change, after signing in or out, and whenever a command is refused as `locked` (the
// engine locked before its event arrived). App.svelte shows the lock screen instead of the account
// while `lock.locked` is true; the rules and words are lib/lock.ts.
import type { AppLockState } from "../bindings/app";
import * as api from "./api";

class LockStore {
  /** `undefined` until the first read answered; `null` when this engine has no app lock. */
  state = $state<AppLockState | null | undefined>(undefined);
  /** The PIN must be given before anything of the account is shown. */
  get locked(): boolean {
    return this.state?.locked === true;
  }
  get enabled(): boolean {
    return this.state?.enabled === true;
  }
}

export const lock = new LockStore();

let seq = 0;

/** Reads `app_lock_state` (the newest answer wins). Never rejects: on failure the last state stays. */
export async function refreshLock(): Promise<AppLockState | null> {
  const mine = ++seq;
  try {
    const st = await api.appLockState();
    if (mine === seq) lock.state = st;
    return st;
  } catch {
    // No such command (an engine without the lock): nothing to lock. Otherwise keep what we knew.
    if (mine === seq && lock.state === undefined) lock.state = null;
    return lock.state ?? null;
  }
}

/** A command was refused as `locked`: find out (the lock screen follows `lock.locked`). */
function onLockedError(): void {
  if (!lock.locked) void refreshLock();
}
api.onLockedError(onLockedError);
