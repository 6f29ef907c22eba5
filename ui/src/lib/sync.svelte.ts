// The history download's progress, one copy for every screen (History, Settings, the global search).
// It mirrors the engine's `sync_progress`: re-read at sign-in and on the `sync` change topic, throttled.
import type { SyncProgress } from "../bindings/app";
import * as api from "./api";
import { announce } from "./store.svelte";
import { historyComplete, throttledReader } from "./sync";

class SyncState {
  /** `null` until the first read answered (or when this engine has no `sync_progress`). */
  progress = $state<SyncProgress | null>(null);
}

export const sync = new SyncState();

let generation = 0;

async function read(): Promise<void> {
  const gen = generation;
  try {
    const next = await api.syncProgress();
    if (gen !== generation) return; // signed out or in as someone else meanwhile
    const was = sync.progress;
    sync.progress = next;
    if (was && !was.complete && next.complete) announce(historyComplete());
  } catch {
    /* keep the last value: the bar is a hint, never an error */
  }
}

/** Re-read `sync_progress` soon (coalesced: a burst of changes costs a few reads per second). */
export const refreshSync = throttledReader(read, 300);

/** Forget the last user's progress (sign-in, sign-out), then read afresh. */
export function resetSync(): void {
  generation++;
  sync.progress = null;
  refreshSync();
}
