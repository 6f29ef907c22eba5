// The History filter bar's form state and its translation into the generated TxFilter.
import type { TxFilter } from "../bindings/app";
import type { TxKind } from "../bindings/protocol";
import { fromDateInput } from "./dates";
import { t } from "./i18n.svelte";
import { parseAmount } from "./money";

export const TX_KINDS: readonly TxKind[] = ["transfer_in", "transfer_out", "deposit", "withdrawal", "adjustment"];

/** "Received", "Sent", "Deposit", "Withdrawal" in the UI's language. */
export function txKindLabel(kind: TxKind): string {
  return t(`txkind.${kind}`);
}

export interface FilterForm {
  /** "yyyy-mm-dd" or "" */
  from: string;
  to: string;
  direction: "" | "in" | "out";
  kinds: TxKind[];
  counterparty: string;
  /** As typed, in `currency`. */
  min: string;
  max: string;
  currency: string;
  search: string;
}

export function emptyForm(currency = ""): FilterForm {
  return { from: "", to: "", direction: "", kinds: [], counterparty: "", min: "", max: "", currency, search: "" };
}

export function emptyFilter(): TxFilter {
  return {
    from: null,
    to: null,
    direction: null,
    kinds: [],
    counterparty: null,
    min_minor: null,
    max_minor: null,
    currency: null,
    search: null,
  };
}

export interface BuiltFilter {
  filter: TxFilter;
  /** Field → problem, for inline messages; the filter leaves invalid fields out. */
  errors: Partial<Record<keyof FilterForm, string>>;
}

const blank = (s: string) => (s.trim() === "" ? null : s.trim());

export function buildFilter(form: FilterForm, locale?: string): BuiltFilter {
  const errors: BuiltFilter["errors"] = {};
  const filter = emptyFilter();
  filter.from = form.from ? fromDateInput(form.from) : null;
  filter.to = form.to ? fromDateInput(form.to, true) : null;
  if (filter.from !== null && filter.to !== null && filter.from > filter.to) {
    errors.to = t("filters.end_before_start");
    filter.to = null;
  }
  filter.direction = form.direction === "" ? null : form.direction;
  filter.kinds = TX_KINDS.filter((k) => form.kinds.includes(k));
  filter.counterparty = blank(form.counterparty);
  filter.search = blank(form.search);
  filter.currency = blank(form.currency);
  const cur = form.currency || "USD";
  for (const [field, key] of [
    ["min", "min_minor"],
    ["max", "max_minor"],
  ] as const) {
    if (form[field].trim() === "") continue;
    const r = parseAmount(form[field], cur, locale);
    if (r.ok) filter[key] = r.minor;
    else errors[field] = r.error;
  }
  if (filter.min_minor !== null && filter.max_minor !== null && filter.min_minor > filter.max_minor) {
    errors.max = t("filters.max_below_min");
    filter.max_minor = null;
  }
  return { filter, errors };
}

/** How many filter fields are set, for the "Filters (3)" button. Search and currency are not counted. */
export function activeFilterCount(f: TxFilter): number {
  let n = 0;
  if (f.from !== null || f.to !== null) n++;
  if (f.direction !== null) n++;
  if (f.kinds.length) n++;
  if (f.counterparty !== null) n++;
  if (f.min_minor !== null || f.max_minor !== null) n++;
  return n;
}

export function sameFilter(a: TxFilter, b: TxFilter): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
