// Lazily pages through `transactions` with keyset cursors, by row index, for the virtual History table.
// A page's cursor is the (created_at, id) of the last row before it; cursors are remembered for every
// page boundary seen, so scrolling back is one call, and a jump far down walks forward in large steps
// (keeping only the cursors, not the rows). Row data far from the viewport is evicted.
import type { TxCursor, TxPage, TxRow } from "../bindings/app";
import { t } from "./i18n.svelte";

export type FetchPage = (cursor: TxCursor | null, limit: number) => Promise<TxPage>;

export interface PagerOptions {
  pageSize?: number;
  /** Most rows asked for in one call while walking to a far page. */
  jumpLimit?: number;
  /** Pages of rows kept in memory. */
  keepPages?: number;
}

export function cursorOf(row: TxRow): TxCursor {
  return { created_at: row.tx.created_at, id: row.tx.id };
}

/** The most rows one `transactions` call returns (the command refuses more). */
export const MAX_TX_PAGE = 500;

export class TxPager {
  readonly pageSize: number;
  readonly jumpLimit: number;
  readonly keepPages: number;
  /** Rows matching the filter (from the last answer). */
  total = 0;
  /** The first page answered at least once (for this generation). */
  ready = false;
  error: unknown = null;
  /** Rows arrived above the ones shown (deep in the list) since the last full reload. */
  newAbove = 0;

  private pages = new Map<number, TxRow[]>();
  /** Shown while a reload replaces them, so rows never blink to placeholders. */
  private stale = new Map<number, TxRow[]>();
  private cursors = new Map<number, TxCursor | null>([[0, null]]);
  private empty = new Set<number>();
  private want = { start: 0, end: 0 };
  private running = false;
  private gen = 0;

  constructor(
    private fetchPage: FetchPage,
    private onChange: () => void,
    opts: PagerOptions = {},
  ) {
    this.pageSize = opts.pageSize ?? 100;
    this.jumpLimit = Math.max(opts.jumpLimit ?? MAX_TX_PAGE, this.pageSize);
    this.keepPages = opts.keepPages ?? 40;
  }

  row(i: number): TxRow | undefined {
    const p = Math.floor(i / this.pageSize);
    const page = this.pages.get(p) ?? this.stale.get(p);
    return page?.[i - p * this.pageSize];
  }

  /** The rows [start, end) are (about to be) visible. */
  request(start: number, end: number): void {
    this.want = { start, end: Math.max(start, end) };
    if (this.newAbove > 0 && start < this.pageSize * 2) {
      this.reload();
      return;
    }
    void this.pump();
  }

  /**
   * A new filter: forget the pages, cursors and total, but keep showing the rows on screen until the new
   * first page replaces them (a search typed key by key draws each result once, never placeholders first).
   */
  reset(): void {
    this.gen++;
    this.stale.clear();
    for (const [k, v] of this.pages) this.stale.set(k, v);
    this.pages.clear();
    this.cursors = new Map([[0, null]]);
    this.empty.clear();
    this.ready = false;
    this.error = null;
    this.newAbove = 0;
    this.want = { start: 0, end: this.want.end - this.want.start };
    void this.pump();
  }

  /** Re-read from the top, keeping what is shown until the new rows arrive. */
  reload(): void {
    this.gen++;
    for (const [k, v] of this.pages) this.stale.set(k, v);
    this.pages.clear();
    this.cursors = new Map([[0, null]]);
    this.empty.clear();
    this.newAbove = 0;
    this.error = null;
    void this.pump();
  }

  /**
   * The cache changed (`changed: transactions`). Near the top: reload. Deep in the list: refresh the
   * pages on screen through their own cursors (keyset cursors survive inserts above) and count the new rows.
   */
  refresh(): void {
    if (this.want.start < this.pageSize * 2) {
      this.reload();
      return;
    }
    const before = this.total;
    const gen = this.gen;
    const visible = this.pagesFor(this.want.start, this.want.end).filter((p) => this.pages.has(p) && this.cursors.has(p));
    void (async () => {
      try {
        for (const p of visible) {
          const res = await this.fetchPage(this.cursors.get(p) ?? null, this.pageSize);
          if (gen !== this.gen) return;
          this.pages.set(p, res.rows);
        }
        const head = await this.fetchPage(null, 1);
        if (gen !== this.gen) return;
        this.newAbove += Math.max(0, head.total - before);
        this.total = Math.max(this.total, head.total);
        this.onChange();
      } catch (e) {
        this.error = e;
        this.onChange();
      }
    })();
  }

  retry(): void {
    this.error = null;
    void this.pump();
  }

  get pageCount(): number {
    return Math.ceil(this.total / this.pageSize);
  }

  private pagesFor(start: number, end: number): number[] {
    const out: number[] = [];
    const a = Math.floor(start / this.pageSize);
    const b = Math.floor(Math.max(start, end - 1) / this.pageSize);
    for (let p = a; p <= b; p++) out.push(p);
    return out;
  }

  private nextMissing(): number | null {
    const visible = this.pagesFor(this.want.start, this.want.end);
    const margin = [visible[0] - 1, visible[visible.length - 1] + 1];
    // Learn the total (page 0) before anything else.
    if (!this.ready) return this.pages.has(0) || this.empty.has(0) ? null : 0;
    const last = this.pageCount - 1;
    for (const p of [...visible, ...margin]) {
      if (p < 0 || p > last || this.pages.has(p) || this.empty.has(p)) continue;
      return p;
    }
    return null;
  }

  private isWanted(p: number): boolean {
    const a = Math.floor(this.want.start / this.pageSize) - 1;
    const b = Math.floor(Math.max(this.want.start, this.want.end - 1) / this.pageSize) + 1;
    return p >= a && p <= b;
  }

  private async pump(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        if (this.error) break;
        const p = this.nextMissing();
        if (p === null) break;
        await this.load(p);
      }
      if (!this.error && this.stale.size) {
        this.stale.clear();
        this.onChange();
      }
    } catch (e) {
      this.error = e;
      this.onChange();
    } finally {
      this.running = false;
    }
  }

  private async load(p: number): Promise<void> {
    const gen = this.gen;
    const ps = this.pageSize;
    let q = p;
    while (!this.cursors.has(q)) q--;
    const limit = q === p ? ps : Math.min((p - q + 1) * ps, this.jumpLimit);
    let res: TxPage;
    try {
      res = await this.fetchPage(this.cursors.get(q) ?? null, limit);
    } catch (e) {
      if (gen !== this.gen) return; // an older filter's read: its failure is not this list's
      throw e;
    }
    if (gen !== this.gen) return;
    // Only the first page carries the total (the engine counts once, not per page: 0 after a cursor).
    if (!this.cursors.get(q)) this.total = res.total;
    this.ready = true;
    const rows = res.rows;
    const base = q * ps;
    let progress = false;
    for (let k = q + 1; k * ps - 1 - base < rows.length; k++) {
      this.cursors.set(k, cursorOf(rows[k * ps - 1 - base]));
      progress = true;
    }
    for (let k = q; k * ps - base < rows.length; k++) {
      const slice = rows.slice(k * ps - base, (k + 1) * ps - base);
      if ((slice.length === ps || res.next === null) && (k === p || this.isWanted(k))) {
        this.pages.set(k, slice);
        progress = true;
      }
    }
    if (!progress && res.next !== null && rows.length > 0) {
      throw new Error(t("pager.short_page"));
    }
    if (res.next === null) {
      // The end of the data: anything past it is empty (the total may have shrunk).
      const end = base + rows.length;
      this.total = end;
      if (rows.length === 0 || !this.pages.has(p)) this.empty.add(p);
    } else if (rows.length === 0) {
      this.empty.add(p);
    }
    this.evict();
    this.onChange();
  }

  private evict(): void {
    if (this.pages.size <= this.keepPages) return;
    const center = Math.floor(this.want.start / this.pageSize);
    const byDistance = [...this.pages.keys()].sort((a, b) => Math.abs(b - center) - Math.abs(a - center));
    for (const k of byDistance.slice(0, this.pages.size - this.keepPages)) this.pages.delete(k);
  }
}
