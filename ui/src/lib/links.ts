// tally:// links opened from outside the app (a browser, a QR code, another app). The engine reads the link
// (crates/client/src/links.rs) and keeps it until the UI takes it; here it becomes a screen: a pay link
// opens Send filled in (it never sends by itself), a chat link the room, a request link
// Home at that request. A link opened before sign-in
// waits for it.
import type { LinkIntent } from "../bindings/app";
import * as api from "./api";
import { app, navigate, toast } from "./store.svelte";
import { t } from "./i18n.svelte";

let waiting: LinkIntent | null = null;

/** Takes the link the engine is holding, if any (while the app lock is on the engine keeps it). */
export async function takeLink(): Promise<void> {
  let opened;
  try {
    opened = await api.takeLink();
  } catch {
    return; // locked: the engine keeps the link until after the PIN
  }
  if (!opened) return;
  if (opened.outcome === "refused") {
    toast("error", t("links.open_failed"), opened.message);
    return;
  }
  waiting = opened.intent;
  if (!app.session) toast("info", t("links.sign_in_first"), t("links.sign_in_first_body"));
  showWaitingLink();
}

/** A request link: Home, with the request shown first and highlighted (one of the user's own only). */
async function openRequest(id: number): Promise<void> {
  const known = await api.paymentRequests().catch(() => []);
  if (!known.some((r) => r.request.id === id)) {
    toast("info", t("links.requests"), t("links.requests_body"));
    return;
  }
  app.focusRequest = id;
  navigate({ view: "home" });
}

/** Shows what a waiting link asks for, once someone is signed in. */
export function showWaitingLink(): void {
  if (!waiting || !app.session) return;
  const it = waiting;
  waiting = null;
  switch (it.kind) {
    case "pay":
      navigate({ view: "send", sendTo: it.to, link: { amount: it.amount ?? null, memo: it.memo, at: Date.now() } });
      break;
    case "chat":
      navigate({ view: "chat", room: it.room, message: null });
      break;
    case "request":
      void openRequest(it.id);
      break;
  }
}

/** tally://pay?to=… for someone else to pay `username`, with an amount when one is given. */
export function payLink(username: string, amount: { minor: number; currency: string } | null, decimals: number): string {
  const q = new URLSearchParams({ to: username });
  if (amount && amount.minor > 0) {
    const s = String(amount.minor).padStart(decimals + 1, "0");
    q.set("amount", decimals ? `${s.slice(0, -decimals)}.${s.slice(-decimals)}` : s);
    q.set("currency", amount.currency);
  }
  return `tally://pay?${q.toString()}`;
}
