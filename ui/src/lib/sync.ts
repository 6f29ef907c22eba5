// What the history download ("backfill") looks like on screen: the bar's numbers, its text, and the
// "so far" label on search and filter results while the history is still arriving. Pure, so it is
// unit-tested; the shared state lives in sync.svelte.ts.
import type { SyncKind, SyncProgress } from "../bindings/app";
import { t } from "./i18n.svelte";
import { userLocale } from "./money";

/** "History complete", in the UI's language. */
export const historyComplete = (): string => t("sync.complete");

/** What the bar shows: `percent` is null while the hub's total is unknown (an indeterminate bar). */
export interface SyncBarModel {
  complete: boolean;
  percent: number | null;
  text: string;
}

/** Whole percent of `fetched/total`, 0–100 (never 100 before complete); null without a total. */
export function syncPercent(p: SyncProgress): number | null {
  if (p.complete) return 100;
  if (p.total === null) return null;
  if (p.total <= 0) return 0;
  return Math.min(99, Math.floor((p.fetched * 100) / p.total));
}

/** "Downloading history — 41,200 of 100,000", "… — 41,200 so far", or "History complete". */
export function syncText(p: SyncProgress, locale = userLocale()): string {
  if (p.complete) return historyComplete();
  const nf = new Intl.NumberFormat(locale);
  const fetched = nf.format(p.fetched);
  return p.total === null
    ? t("sync.so_far", { n: fetched })
    : t("sync.of", { n: fetched, total: nf.format(Math.max(p.total, p.fetched)) });
}

export function syncBar(p: SyncProgress, locale = userLocale()): SyncBarModel {
  return { complete: p.complete, percent: syncPercent(p), text: syncText(p, locale) };
}

/** Results may be missing rows: the history is known and not complete yet. Unknown (null) is not partial. */
export function isPartial(p: SyncProgress | null | undefined): boolean {
  return !!p && !p.complete;
}

/** Appended to a result count while the history downloads: " so far — history still downloading". */
export function soFarSuffix(p: SyncProgress | null | undefined): string {
  return isPartial(p) ? ` ${t("sync.suffix")}` : "";
}

/** "12 results so far — history still downloading", or "12 results" / "1 result" once complete. */
export function resultsLabel(count: number, p: SyncProgress | null | undefined, locale = userLocale()): string {
  const n = new Intl.NumberFormat(locale).format(count);
  return t("sync.results", { count, n }) + soFarSuffix(p);
}

/** One line of the per-kind breakdown (chat rooms summed into one "Messages" line). */
export interface SyncKindLine {
  kind: SyncKind;
  label: string;
  fetched: number;
  total: number | null;
  complete: boolean;
}

const kindLabel = (kind: SyncKind): string => t(`sync.kind_${kind}`);
const KIND_ORDER: SyncKind[] = ["transactions", "notifications", "messages"];

/** The parts grouped by kind, in a fixed order; a kind's total is known once every part of it knows. */
export function kindLines(p: SyncProgress): SyncKindLine[] {
  return KIND_ORDER.flatMap((kind) => {
    const parts = p.parts.filter((x) => x.kind === kind);
    if (parts.length === 0) return [];
    const known = parts.every((x) => x.total !== null);
    return [
      {
        kind,
        label: kindLabel(kind),
        fetched: parts.reduce((s, x) => s + x.fetched, 0),
        total: known ? parts.reduce((s, x) => s + (x.total ?? 0), 0) : null,
        complete: parts.every((x) => x.complete),
      },
    ];
  });
}

/** "41,200 of 100,000", "41,200 so far" or "All 100,000" for one breakdown line. */
export function kindText(line: SyncKindLine, locale = userLocale()): string {
  const nf = new Intl.NumberFormat(locale);
  if (line.complete) return t("sync.all", { n: nf.format(line.fetched) });
  if (line.total === null) return t("sync.line_so_far", { n: nf.format(line.fetched) });
  return t("sync.line_of", { n: nf.format(line.fetched), total: nf.format(Math.max(line.total, line.fetched)) });
}

/**
 * Coalesces re-read requests: at most one read in flight and reads at least `gapMs` apart, so a burst
 * of `sync` changes costs a few reads per second. A request during a read schedules one more after it.
 */
export function throttledReader(read: () => Promise<void>, gapMs = 300, now = () => Date.now()): () => void {
  let inFlight = false;
  let again = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let last = -Infinity;

  const run = async () => {
    inFlight = true;
    last = now();
    try {
      await read();
    } catch {
      /* the caller's read handles its own errors; keep the reader alive */
    } finally {
      inFlight = false;
      if (again) {
        again = false;
        request();
      }
    }
  };

  function request(): void {
    if (inFlight) {
      again = true;
      return;
    }
    if (timer !== undefined) return;
    const wait = last + gapMs - now();
    if (wait <= 0) {
      void run();
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      void run();
    }, wait);
  }

  return request;
}

/** History's count line: "2,000 transactions", or with a search or filter "12 transactions match" (+ "so far …"). */
export function historyCountText(total: number, filtering: boolean, p: SyncProgress | null | undefined, locale = userLocale()): string {
  const n = new Intl.NumberFormat(locale).format(total);
  if (!filtering) return t("sync.transactions", { count: total, n });
  return t("sync.match", { count: total, n }) + soFarSuffix(p);
}
