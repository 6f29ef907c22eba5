// The outbox list kept by the engine's typed updates (`outbox` events): each update moves one item, so
// the list follows without reading the whole outbox again. Pure, for the tests; the shared copy lives in
// outbox.svelte.ts.
import type { OutboxItem, OutboxUpdate } from "../bindings/app";

/** The list after one update (a new array; the items it does not touch are the same objects). */
export function applyOutboxUpdate(items: readonly OutboxItem[], u: OutboxUpdate): OutboxItem[] {
  switch (u.update) {
    case "queued":
      return [...items.filter((o) => o.id !== u.item.id), u.item];
    case "sending":
      return items.map((o) => (o.id === u.id ? { ...o, attempts: o.attempts + 1 } : o));
    case "failed":
      return items.map((o) => (o.id === u.id ? { ...o, local: u.local } : o));
    case "retrying":
      return items.map((o) => (o.id === u.id ? { ...o, local: { state: "pending" }, expires_at: u.expires_at ?? o.expires_at } : o));
    case "sent":
    case "discarded":
      return items.filter((o) => o.id !== u.id);
  }
}
