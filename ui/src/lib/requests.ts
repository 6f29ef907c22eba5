// What the payment and request cards share: the chip each status wears, and a request's status as shown
// (an open one past its deadline is expired: the hub's sweep says so within seconds).
import type { PaymentRequest, RequestStatus } from "../bindings/protocol";

export const CHIP: Record<string, string> = {
  pending: "chip-accent",
  processing: "chip-accent",
  paying: "chip-accent",
  completed: "chip-ok",
  paid: "chip-ok",
  failed: "chip-err",
  declined: "chip-err",
  expired: "chip-warn",
};

export function shownStatus(r: PaymentRequest, now: number): RequestStatus {
  return r.status === "open" && r.expires_at != null && r.expires_at <= now ? "expired" : r.status;
}
