import type { LocalState, TransferView } from "../bindings/app";
import { t } from "./i18n.svelte";
import type { Transaction, TransferStatus } from "../bindings/protocol";
import { bidiSafe } from "./bidi";
import { txKindLabel } from "./filters";
import { formatMoney } from "./money";

export function txTitle(tx: Transaction): string {
  // Someone else's name: without bidi overrides (see bidi.ts); render it in a <bdi>.
  if (tx.counterparty) return bidiSafe(tx.counterparty.display_name) || tx.counterparty.username;
  return txKindLabel(tx.kind);
}

export function signedMinor(tx: Transaction): number {
  return tx.direction === "in" ? tx.amount.minor : -tx.amount.minor;
}

/** "+$12.00" for money in, "−$12.00" for money out. */
export function formatSigned(tx: Transaction, locale?: string): string {
  return formatMoney(signedMinor(tx), tx.amount.currency, { sign: "always", locale });
}

export interface Chip {
  label: string;
  cls: string;
}

export function statusChip(status: TransferStatus): Chip | null {
  switch (status) {
    case "pending":
      return { label: t("tx.pending"), cls: "chip-warn" };
    case "processing":
      return { label: t("tx.processing"), cls: "chip-accent" };
    case "failed":
      return { label: t("tx.failed"), cls: "chip-err" };
    case "review":
      return { label: t("tx.review"), cls: "chip-warn" };
    case "completed":
      return null;
  }
}

/** The state of a transfer the user made, combining local outbox state and hub status. */
export type TransferPhase = "queued" | "pending" | "processing" | "review" | "completed" | "failed";

export function transferPhase(tv: TransferView, live: boolean): TransferPhase {
  const local: LocalState = tv.local;
  if (local.state === "failed") return "failed";
  if (local.state === "pending") return live ? "pending" : "queued";
  return tv.transfer.status;
}

export function transferFailure(tv: TransferView): string | null {
  if (tv.local.state === "failed") return tv.local.reason;
  if (tv.transfer.status === "failed") return tv.transfer.failure ?? t("tx.failed_body");
  return null;
}

/** "queued", "pending", … in the UI's language. */
export function phaseLabel(phase: TransferPhase): string {
  return t(`tx.phase_${phase}`);
}
