// History's layout choices that outlive a visit: whether the charts are shown (remembered on this device;
// collapsed by default on phones, where they would leave the table no room), and the table's column widths
// sized to their content.

export const CHARTS_KEY = "tally.history.charts";

type Store = Pick<Storage, "getItem" | "setItem">;

function storage(): Store | null {
  try {
    return typeof localStorage === "undefined" ? null : localStorage;
  } catch {
    return null; // storage may be disabled
  }
}

/** Whether History shows its charts: the user's last choice, else shown except on a phone-sized window. */
export function chartsShown(phone: boolean, store: Store | null = storage()): boolean {
  let saved: string | null = null;
  try {
    saved = store?.getItem(CHARTS_KEY) ?? null;
  } catch {
    /* unreadable: the default */
  }
  if (saved === "shown") return true;
  if (saved === "hidden") return false;
  return !phone;
}

export function rememberCharts(shown: boolean, store: Store | null = storage()): void {
  try {
    store?.setItem(CHARTS_KEY, shown ? "shown" : "hidden");
  } catch {
    /* not remembered; the choice still holds for this visit */
  }
}

/** The table's content-sized columns (px). Memo is not here: it takes the spare width. */
export interface ColumnWidths {
  date: number;
  who: number;
  type: number;
  amt: number;
  bal: number;
}

/** Most a column grows to, so one long name cannot squeeze the memo out. */
export const COLUMN_MAX: ColumnWidths = { date: 150, who: 240, type: 220, amt: 180, bal: 180 };

/**
 * Widens `current` to fit what was measured (the widest cell of each column among the rows on screen and
 * the header), capped by COLUMN_MAX. Columns only grow while the same list is shown, so they do not jump
 * back and forth while scrolling; null when nothing changed (no style write, no relayout).
 */
export function fitColumns(current: ColumnWidths, measured: Partial<ColumnWidths>): ColumnWidths | null {
  let changed = false;
  const next = { ...current };
  for (const k of Object.keys(current) as (keyof ColumnWidths)[]) {
    const m = measured[k];
    if (m === undefined || !Number.isFinite(m)) continue;
    const w = Math.min(COLUMN_MAX[k], Math.ceil(m));
    if (w > next[k]) {
      next[k] = w;
      changed = true;
    }
  }
  return changed ? next : null;
}
