import { describe, expect, it, vi } from "vitest";
import type { TxCursor, TxPage, TxRow } from "../bindings/app";
import { MAX_TX_PAGE, TxPager } from "./pager";

function rows(n: number): TxRow[] {
  return Array.from({ length: n }, (_, i) => ({
    stale: false,
    tx: {
      id: n - i,
      kind: "deposit",
      direction: "in",
      amount: { minor: 100, currency: "USD" },
      balance_after: 0,
      memo: `row ${i}`,
      status: "completed",
      created_at: 1_000_000 - i,
    },
  }));
}

function source(all: TxRow[], maxLimit = Infinity) {
  const calls: { cursor: TxCursor | null; limit: number }[] = [];
  const fetch = vi.fn(async (cursor: TxCursor | null, limit: number): Promise<TxPage> => {
    calls.push({ cursor, limit });
    // Like the `transactions` command: more than 500 rows a call is refused.
    if (limit > MAX_TX_PAGE) throw new Error(`limit must be 1-${MAX_TX_PAGE}`);
    const start = cursor ? all.findIndex((r) => r.tx.created_at < cursor.created_at || (r.tx.created_at === cursor.created_at && r.tx.id < cursor.id)) : 0;
    const from = start < 0 ? all.length : start;
    const page = all.slice(from, from + Math.min(limit, maxLimit));
    const end = from + page.length;
    const last = page[page.length - 1];
    return { rows: page, next: end < all.length && last ? { created_at: last.tx.created_at, id: last.tx.id } : null, total: cursor ? 0 : all.length }; // like the engine: only the first page counts
  });
  return { fetch, calls };
}

const settle = () => new Promise((r) => setTimeout(r, 0));
async function drain(p: TxPager) {
  for (let i = 0; i < 50; i++) await settle();
  return p;
}

describe("TxPager", () => {
  it("loads the visible pages lazily", async () => {
    const { fetch } = source(rows(1000));
    const p = new TxPager(fetch, () => {}, { pageSize: 100 });
    p.request(0, 20);
    await drain(p);
    expect(p.total).toBe(1000);
    expect(p.row(0)?.tx.memo).toBe("row 0");
    expect(p.row(150)?.tx.memo).toBe("row 150"); // the next page is prefetched
    expect(p.row(250)).toBeUndefined();
    expect(fetch).toHaveBeenCalledTimes(2);
  });

  it("walks to a far page in large steps, keeping only cursors", async () => {
    const { fetch, calls } = source(rows(10_000));
    const p = new TxPager(fetch, () => {}, { pageSize: 100 });
    p.request(0, 20);
    await drain(p);
    p.request(7_050, 7_070);
    await drain(p);
    expect(p.row(7_050)?.tx.memo).toBe("row 7050");
    expect(p.row(7_069)?.tx.memo).toBe("row 7069");
    expect(p.row(3_000)).toBeUndefined(); // walked over, not kept
    expect(calls.some((c) => c.limit === MAX_TX_PAGE)).toBe(true);
    expect(calls.every((c) => c.limit <= MAX_TX_PAGE)).toBe(true);
    expect(calls.length).toBeLessThan(20);
    // Scrolling back to a page walked over is one call: its cursor was remembered.
    const before = calls.length;
    p.request(3_000, 3_010);
    await drain(p);
    expect(p.row(3_000)?.tx.memo).toBe("row 3000");
    expect(calls.length - before).toBeLessThanOrEqual(3);
  });

  it("copes with a backend that returns fewer rows than asked", async () => {
    const { fetch } = source(rows(5_000), 300);
    const p = new TxPager(fetch, () => {}, { pageSize: 100 });
    p.request(4_500, 4_520);
    await drain(p);
    expect(p.row(4_510)?.tx.memo).toBe("row 4510");
  });

  it("evicts rows far from the viewport", async () => {
    const { fetch } = source(rows(10_000));
    const p = new TxPager(fetch, () => {}, { pageSize: 100, keepPages: 5 });
    for (let i = 0; i < 20; i++) {
      p.request(i * 100, i * 100 + 20);
      await drain(p);
    }
    expect(p.row(0)).toBeUndefined();
    expect(p.row(1_900)?.tx.memo).toBe("row 1900");
  });

  it("reloads from the top without blanking what is shown", async () => {
    const all = rows(500);
    const { fetch } = source(all);
    let changes = 0;
    const p = new TxPager(fetch, () => changes++, { pageSize: 100 });
    p.request(0, 20);
    await drain(p);
    all.unshift({ ...all[0], tx: { ...all[0].tx, id: 9999, created_at: 2_000_000, memo: "new" } });
    p.refresh();
    expect(p.row(0)?.tx.memo).toBe("row 0"); // still shown meanwhile
    await drain(p);
    expect(p.row(0)?.tx.memo).toBe("new");
    expect(p.total).toBe(501);
    expect(changes).toBeGreaterThan(2);
  });

  it("a new filter keeps the rows shown until its first page replaces them (no placeholders between keys)", async () => {
    let all = rows(500);
    let release: () => void = () => {};
    const fetch = vi.fn(async (cursor: TxCursor | null, limit: number): Promise<TxPage> => {
      if (all.length < 500) await new Promise<void>((r) => (release = r)); // the filtered query takes a while
      const page = all.slice(0, limit);
      return { rows: page, next: null, total: cursor ? 0 : all.length };
    });
    const p = new TxPager(fetch, () => {}, { pageSize: 100 });
    p.request(0, 20);
    await drain(p);
    all = all.filter((r) => r.tx.memo.endsWith("7"));
    p.reset();
    await settle();
    expect(p.row(0)?.tx.memo).toBe("row 0"); // still the old rows while the new query runs
    expect(p.ready).toBe(false);
    release();
    await drain(p);
    expect(p.row(0)?.tx.memo).toBe("row 7");
    expect(p.total).toBe(50);
    expect(p.row(60)).toBeUndefined(); // nothing of the old list past the new one's end
  });

  it("deep in the list, refresh keeps rows in place and counts new ones above", async () => {
    const all = rows(2_000);
    const { fetch } = source(all);
    const p = new TxPager(fetch, () => {}, { pageSize: 100 });
    p.request(1_500, 1_520);
    await drain(p);
    all.unshift({ ...all[0], tx: { ...all[0].tx, id: 9999, created_at: 2_000_000, memo: "new" } });
    p.refresh();
    await drain(p);
    expect(p.row(1_500)?.tx.memo).toBe("row 1500");
    expect(p.newAbove).toBe(1);
  });

  it("reports errors and retries", async () => {
    let fail = true;
    const { fetch } = source(rows(100));
    const p = new TxPager(async (c, l) => {
      if (fail) throw { code: "storage", message: "disk" };
      return fetch(c, l);
    }, () => {});
    p.request(0, 10);
    await drain(p);
    expect(p.error).toEqual({ code: "storage", message: "disk" });
    fail = false;
    p.retry();
    await drain(p);
    expect(p.error).toBeNull();
    expect(p.row(5)?.tx.memo).toBe("row 5");
  });

  it("an empty result is ready with no rows", async () => {
    const { fetch } = source([]);
    const p = new TxPager(fetch, () => {});
    p.request(0, 10);
    await drain(p);
    expect(p.ready).toBe(true);
    expect(p.total).toBe(0);
  });
});
