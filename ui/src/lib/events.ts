// The engine's events (`tally://event`), routed to the app's state: the connection, the topics that
// changed (each screen re-reads its own through `onChanges`), the outbox's typed updates, toasts, a clicked notification, a waiting
// link, updates and problems. App.svelte listens and hands every event here.
import type { AppEvent } from "../bindings/app";
import * as api from "./api";
import { bidiSafe } from "./bidi";
import { t } from "./i18n.svelte";
import { takeLink } from "./links";
import { lock, refreshLock } from "./lock.svelte";
import { followOutbox, reloadOutbox } from "./outbox.svelte";
import { files } from "./files.svelte";
import { app, dispatchChanges, hasTopic, navigate, openTarget, reportProblem, toast } from "./store.svelte";
import { refreshSync } from "./sync.svelte";
import { isAnnouncedPayment, presentEngineToast } from "./toasts";

/**
 * Counts the engine's `conn` events. A state read with `conn_state` is applied only when no event came
 * while the answer was on its way: the event is newer, and the answer would put the pill back to a state
 * the engine has left (it could then say "Signing in…" for minutes while the app is live).
 */
let connEvents = 0;

/** Reads the connection's state, unless an event newer than the answer came meanwhile. */
export async function readConnState(): Promise<void> {
  const seen = connEvents;
  try {
    const c = await api.connState();
    if (connEvents === seen) app.conn = c;
  } catch {
    /* the events keep it current */
  }
}

/** The unread counts of the navigation's badges (the last ones are kept when the read fails). */
export async function refreshUnread(): Promise<void> {
  try {
    app.unread = await api.unreadCounts();
  } catch {
    /* keep the last counts */
  }
}

/** What the router needs from the app's shell: reading the session again. */
export interface EventHooks {
  refreshSession: () => Promise<void>;
}

/** Applies one engine event. */
export function handleEvent(ev: AppEvent, hooks: EventHooks): void {
  switch (ev.type) {
    case "conn":
      connEvents++;
      app.now = app.connAt = Date.now();
      if (ev.conn.state !== "live" && app.conn.state === "live") app.lostAt = Date.now();
      if (ev.conn.state === "live") app.lostAt = null;
      app.conn = ev.conn;
      break;
    case "changed":
      if (hasTopic(ev.changes, "lock")) void refreshLock();
      if (hasTopic(ev.changes, "session")) void hooks.refreshSession();
      if (hasTopic(ev.changes, "notifications", "rooms", "messages", "session")) void refreshUnread();
      if (hasTopic(ev.changes, "sync", "session")) refreshSync();
      if (hasTopic(ev.changes, "outbox", "session")) void reloadOutbox();
      dispatchChanges(ev.changes);
      break;
    case "outbox":
      // The list follows the update itself; screens that count what waits (limits, a tracked payment)
      // hear of it as the `outbox` topic.
      followOutbox(ev.update);
      dispatchChanges([{ topic: "outbox" }]);
      break;
    case "toast":
      showEngineToast(ev);
      break;
    case "open":
      openTarget(ev.target);
      break;
    case "link_waiting":
      void takeLink();
      break;
    case "update_available":
      toast(
        "info",
        t("app.update_title", { version: ev.version }),
        t("app.update_body"),
        { label: t("common.settings"), run: () => navigate({ view: "settings" }) },
        { key: `update-${ev.version}` },
      );
      break;
    case "update_progress":
      app.updateProgress = { downloaded: ev.downloaded, total: ev.total };
      break;
    case "upload":
      files.uploads[ev.item] = { done: ev.sent, total: ev.total };
      break;
    case "download":
      files.downloads[ev.id] = { done: ev.received, total: ev.total };
      break;
    case "problem":
      reportProblem(ev.error);
      break;
  }
}

function showEngineToast(ev: Extract<AppEvent, { type: "toast" }>): void {
  // Nothing of the account shows while locked (the notification list has it after unlocking).
  if (lock.locked) return;
  // In the app's money format, with the direction's icon; the hub's echo of a payment Send already
  // announced is not a second toast, nor is a repeat of the same notification.
  const v = presentEngineToast(ev);
  if (v.sent && isAnnouncedPayment(v.sent)) return;
  // Other people's names, memos and messages: shown without bidi overrides (see lib/bidi.ts).
  toast(v.tone, bidiSafe(v.title), bidiSafe(v.body), undefined, { key: v.key, icon: v.icon, sameFor: 60_000 });
}
