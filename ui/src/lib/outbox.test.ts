import { describe, expect, it } from "vitest";
import type { OutboxItem, OutboxUpdate } from "../bindings/app";
import { applyOutboxUpdate } from "./outbox";

const item = (id: number, over: Partial<OutboxItem> = {}): OutboxItem => ({
  id,
  kind: "transfer",
  queue: "transfers",
  local: { state: "pending" },
  created_at: 1000,
  expires_at: 5000,
  attempts: 0,
  summary: `item ${id}`,
  ...over,
});

const fold = (updates: OutboxUpdate[], start: OutboxItem[] = []) => updates.reduce(applyOutboxUpdate, start);

describe("the outbox list kept by typed updates", () => {
  it("follows an item from queued through sending to sent", () => {
    const list = fold([{ update: "queued", item: item(1) }, { update: "queued", item: item(2) }, { update: "sending", id: 1 }]);
    expect(list.map((o) => [o.id, o.attempts])).toEqual([
      [1, 1],
      [2, 0],
    ]);
    expect(fold([{ update: "sent", id: 1 }], list).map((o) => o.id)).toEqual([2]);
  });

  it("shows a failure, and a retry puts it back to waiting with its new deadline", () => {
    const failed = fold([{ update: "queued", item: item(3) }, { update: "failed", id: 3, local: { state: "failed", reason: "No such user", code: "not_found" } }]);
    expect(failed[0].local).toEqual({ state: "failed", reason: "No such user", code: "not_found" });
    const again = applyOutboxUpdate(failed, { update: "retrying", id: 3, expires_at: 9000 });
    expect([again[0].local.state, again[0].expires_at]).toEqual(["pending", 9000]);
    expect(applyOutboxUpdate(failed, { update: "retrying", id: 3, expires_at: null })[0].expires_at).toBe(5000);
  });

  it("drops a discarded item, ignores updates for items it never had and never lists one twice", () => {
    const list = fold([{ update: "queued", item: item(4) }, { update: "queued", item: item(4, { summary: "again" }) }]);
    expect(list).toHaveLength(1);
    expect(fold([{ update: "sending", id: 99 }, { update: "sent", id: 98 }], list)).toEqual(list);
    expect(applyOutboxUpdate(list, { update: "discarded", id: 4 })).toEqual([]);
  });

  it("leaves the items an update does not touch as they were", () => {
    const list = fold([{ update: "queued", item: item(5) }, { update: "queued", item: item(6) }]);
    const next = applyOutboxUpdate(list, { update: "sending", id: 6 });
    expect(next[0]).toBe(list[0]);
    expect(list[1].attempts).toBe(0);
  });
});
