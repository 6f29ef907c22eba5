import { afterEach, describe, expect, it, vi } from "vitest";
import type { SyncPart, SyncProgress } from "../bindings/app";
import {
  historyCountText,
  isPartial,
  kindLines,
  kindText,
  resultsLabel,
  soFarSuffix,
  syncBar,
  syncPercent,
  syncText,
  throttledReader,
} from "./sync";

const part = (over: Partial<SyncPart> = {}): SyncPart => ({ kind: "transactions", room: null, fetched: 0, total: null, complete: false, ...over });
const progress = (fetched: number, total: number | null, complete = false, parts: SyncPart[] = []): SyncProgress => ({ parts, fetched, total, complete });

describe("syncText", () => {
  it("counts fetched of total with the locale's grouping", () => {
    expect(syncText(progress(41_200, 100_000), "en-US")).toBe("Downloading history — 41,200 of 100,000");
    expect(syncText(progress(41_200, 100_000), "de-DE")).toBe("Downloading history — 41.200 of 100.000");
  });
  it("says 'so far' while the total is unknown", () => {
    expect(syncText(progress(41_200, null), "en-US")).toBe("Downloading history — 41,200 so far");
    expect(syncText(progress(0, null), "en-US")).toBe("Downloading history — 0 so far");
  });
  it("never shows more fetched than total", () => {
    expect(syncText(progress(105, 100), "en-US")).toBe("Downloading history — 105 of 105");
  });
  it("says History complete when complete", () => {
    expect(syncText(progress(100_000, 100_000, true), "en-US")).toBe("History complete");
    expect(syncText(progress(3, null, true), "en-US")).toBe("History complete");
  });
});

describe("syncPercent", () => {
  it("is fetched/total, floored, below 100 until complete", () => {
    expect(syncPercent(progress(41_200, 100_000))).toBe(41);
    expect(syncPercent(progress(999, 1000))).toBe(99);
    expect(syncPercent(progress(1000, 1000))).toBe(99);
    expect(syncPercent(progress(2000, 1000))).toBe(99);
    expect(syncPercent(progress(1000, 1000, true))).toBe(100);
  });
  it("is null (indeterminate) without a total, 0 for an empty total", () => {
    expect(syncPercent(progress(500, null))).toBeNull();
    expect(syncPercent(progress(0, 0))).toBe(0);
  });
  it("syncBar bundles the three", () => {
    expect(syncBar(progress(1, 4), "en-US")).toEqual({ complete: false, percent: 25, text: "Downloading history — 1 of 4" });
  });
});

describe("results labels", () => {
  it("adds 'so far' only while the history is known to be incomplete", () => {
    expect(isPartial(progress(1, 2))).toBe(true);
    expect(isPartial(progress(2, 2, true))).toBe(false);
    expect(isPartial(null)).toBe(false);
    expect(soFarSuffix(progress(1, null))).toBe(" so far — history still downloading");
    expect(soFarSuffix(progress(1, 1, true))).toBe("");
  });
  it("resultsLabel", () => {
    expect(resultsLabel(12, progress(1, 2), "en-US")).toBe("12 results so far — history still downloading");
    expect(resultsLabel(1, progress(1, 2), "en-US")).toBe("1 result so far — history still downloading");
    expect(resultsLabel(1_234, progress(2, 2, true), "en-US")).toBe("1,234 results");
    expect(resultsLabel(0, null, "en-US")).toBe("0 results");
  });
  it("historyCountText labels searches and filters, not the whole list", () => {
    const partial = progress(1, 2);
    expect(historyCountText(2000, false, partial, "en-US")).toBe("2,000 transactions");
    expect(historyCountText(12, true, partial, "en-US")).toBe("12 transactions match so far — history still downloading");
    expect(historyCountText(1, true, partial, "en-US")).toBe("1 transaction matches so far — history still downloading");
    expect(historyCountText(12, true, progress(2, 2, true), "en-US")).toBe("12 transactions match");
    expect(historyCountText(12, true, null, "en-US")).toBe("12 transactions match");
  });
});

describe("kindLines", () => {
  it("groups parts by kind in a fixed order, summing rooms", () => {
    const p = progress(0, null, false, [
      part({ kind: "messages", room: 7, fetched: 40, total: 50 }),
      part({ kind: "transactions", fetched: 41_200, total: 100_000 }),
      part({ kind: "messages", room: 8, fetched: 10, total: 10, complete: true }),
    ]);
    expect(kindLines(p)).toEqual([
      { kind: "transactions", label: "Transactions", fetched: 41_200, total: 100_000, complete: false },
      { kind: "messages", label: "Chat messages", fetched: 50, total: 60, complete: false },
    ]);
  });
  it("a kind's total is unknown until every part knows it", () => {
    const p = progress(0, null, false, [part({ kind: "messages", room: 7, total: 5 }), part({ kind: "messages", room: 8 })]);
    expect(kindLines(p)[0].total).toBeNull();
  });
  it("kindText", () => {
    const line = { kind: "transactions" as const, label: "Transactions", fetched: 41_200, total: 100_000, complete: false };
    expect(kindText(line, "en-US")).toBe("41,200 of 100,000");
    expect(kindText({ ...line, total: null }, "en-US")).toBe("41,200 so far");
    expect(kindText({ ...line, fetched: 100_000, complete: true }, "en-US")).toBe("All 100,000");
  });
});

describe("throttledReader", () => {
  afterEach(() => vi.useRealTimers());

  it("reads at once, then coalesces a burst into one read per gap", async () => {
    vi.useFakeTimers();
    const read = vi.fn(async () => {});
    const request = throttledReader(read, 300);
    request();
    expect(read).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 50; i++) request();
    expect(read).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(300);
    expect(read).toHaveBeenCalledTimes(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect(read).toHaveBeenCalledTimes(2);
  });

  it("a request during a read is served by one more read after it", async () => {
    vi.useFakeTimers();
    let finish: () => void = () => {};
    const read = vi.fn(() => new Promise<void>((r) => (finish = r)));
    const request = throttledReader(read, 300);
    request();
    request();
    request();
    expect(read).toHaveBeenCalledTimes(1);
    finish();
    await vi.advanceTimersByTimeAsync(300);
    expect(read).toHaveBeenCalledTimes(2);
    finish();
    await vi.advanceTimersByTimeAsync(1000);
    expect(read).toHaveBeenCalledTimes(2);
  });

  it("keeps working after a failed read", async () => {
    vi.useFakeTimers();
    const read = vi.fn(async () => {
      throw new Error("no such command");
    });
    const request = throttledReader(read, 300);
    request();
    await vi.advanceTimersByTimeAsync(300);
    request();
    expect(read).toHaveBeenCalledTimes(2);
  });
});
