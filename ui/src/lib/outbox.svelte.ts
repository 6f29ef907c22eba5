// What waits to be sent, one copy for every screen: read once (at sign-in, when Settings opens, after the
// engine says to re-read everything) and then kept by the engine's typed `outbox` updates.
import type { OutboxItem, OutboxUpdate } from "../bindings/app";
import * as api from "./api";
import { applyOutboxUpdate } from "./outbox";

class OutboxState {
  items = $state<OutboxItem[]>([]);
}

export const outbox = new OutboxState();

/** Updates seen so far: a read that an update overtook is read again (its answer is older). */
let updates = 0;

/** Reads the whole outbox (the updates keep it from then on). */
export async function reloadOutbox(): Promise<void> {
  for (let tries = 0; tries < 3; tries++) {
    const seen = updates;
    try {
      const items = await api.outbox();
      if (seen !== updates) continue;
      outbox.items = items;
    } catch {
      /* keep the last list: the updates go on */
    }
    return;
  }
}

/** Applies one of the engine's updates. */
export function followOutbox(u: OutboxUpdate): void {
  updates++;
  outbox.items = applyOutboxUpdate(outbox.items, u);
}
