// The signed-in user's own status: what they chose in Settings (kept in `app.presence`) and auto-away
// (src/lib/idle.ts) driven by this window's input. The engine does not report the user's own status, so
// the last accepted choice is remembered on this device, per server and user, like the theme.
import type { SessionInfo } from "../bindings/app";
import type { PresenceStatus } from "../bindings/protocol";
import * as api from "./api";
import { autoAway, type AutoAway } from "./idle";
import { app } from "./store.svelte";

const INPUTS = ["pointerdown", "pointermove", "keydown", "touchstart", "wheel"] as const;
const CHOICES: readonly PresenceStatus[] = ["online", "away", "busy", "invisible"];

interface Saved {
  chosen: PresenceStatus;
  /** Auto-away was in effect (the app closed while idle): restore on the first input. */
  away: boolean;
}

const keyOf = (s: SessionInfo) => `tally.presence:${s.server}|${s.user.username}`;

function readSaved(s: SessionInfo): Saved {
  try {
    const v = JSON.parse(localStorage.getItem(keyOf(s)) ?? "null") as Partial<Saved> | null;
    if (v && CHOICES.includes(v.chosen as PresenceStatus)) return { chosen: v.chosen as PresenceStatus, away: v.away === true };
  } catch {
    /* unreadable: the default */
  }
  return { chosen: "online", away: false };
}

function save(s: SessionInfo, v: Saved): void {
  try {
    localStorage.setItem(keyOf(s), JSON.stringify(v));
  } catch {
    /* storage may be unavailable */
  }
}

let active: { session: SessionInfo; ctl: AutoAway } | null = null;

/** For the signed-in user: restore their choice, then watch for input. Returns the stop function. */
export function startPresence(session: SessionInfo): () => void {
  const saved = readSaved(session);
  app.presence = saved.chosen;
  const ctl = autoAway({
    chosen: () => app.presence,
    send: api.setPresence,
    away: saved.away,
    onAway: (away) => save(session, { chosen: app.presence, away }),
  });
  const me = (active = { session, ctl });
  const onInput = () => ctl.input();
  const onVisible = () => document.visibilityState === "visible" && ctl.input();
  for (const t of INPUTS) window.addEventListener(t, onInput, { capture: true, passive: true });
  document.addEventListener("visibilitychange", onVisible);
  return () => {
    for (const t of INPUTS) window.removeEventListener(t, onInput, { capture: true });
    document.removeEventListener("visibilitychange", onVisible);
    ctl.stop();
    if (active === me) active = null;
  };
}

/** The user picked a status: `set_presence`, then it is their choice (shown in Settings). Rejects on failure. */
export async function choosePresence(status: PresenceStatus): Promise<void> {
  if (!active) {
    await api.setPresence(status);
    app.presence = status;
    return;
  }
  const { session, ctl } = active;
  await ctl.choose(status);
  app.presence = status;
  save(session, { chosen: status, away: false });
}
