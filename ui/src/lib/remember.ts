// Small things the UI remembers on this device between runs (localStorage): the server and username of
// the last sign-in (never the password) and the chat room last open, per account. The truth stays on the
// Rust side; these only save a person retyping or re-picking.

export const DEFAULT_SERVER = "http://127.0.0.1:8787";
const SIGN_IN_KEY = "tally.lastSignIn";
const ROOM_KEY = "tally.lastRoom";

function read(key: string): unknown {
  try {
    const raw = localStorage.getItem(key);
    return raw === null ? null : JSON.parse(raw);
  } catch {
    return null; // storage unavailable or not JSON
  }
}

function write(key: string, value: unknown): void {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage may be unavailable or full: nothing to remember then */
  }
}

export interface LastSignIn {
  server: string;
  username: string;
}

/** The server and username of the last successful sign-in on this device; the default server before any. */
export function lastSignIn(): LastSignIn {
  const v = read(SIGN_IN_KEY) as Partial<LastSignIn> | null;
  return {
    server: typeof v?.server === "string" && v.server ? v.server : DEFAULT_SERVER,
    username: typeof v?.username === "string" ? v.username : "",
  };
}

export function rememberSignIn(server: string, username: string): void {
  write(SIGN_IN_KEY, { server, username });
}

const account = (server: string, username: string) => `${server}|${username}`;

/** The room last open in Chat for this account, or null. */
export function lastRoom(server: string, username: string): number | null {
  const v = read(ROOM_KEY) as Record<string, unknown> | null;
  const id = v?.[account(server, username)];
  return typeof id === "number" && Number.isInteger(id) ? id : null;
}

export function rememberRoom(server: string, username: string, room: number): void {
  const v = (read(ROOM_KEY) as Record<string, number> | null) ?? {};
  if (v[account(server, username)] === room) return;
  write(ROOM_KEY, { ...v, [account(server, username)]: room });
}

/**
 * Forgets what the UI remembered for this account on this device (after a sign-out that wipes its data):
 * the room last open and the status chosen. The last sign-in's server and username stay, to sign back in.
 */
export function forgetAccount(server: string, username: string): void {
  const v = read(ROOM_KEY) as Record<string, number> | null;
  if (v && account(server, username) in v) {
    const rest = { ...v };
    delete rest[account(server, username)];
    write(ROOM_KEY, rest);
  }
  try {
    localStorage.removeItem(`tally.presence:${server}|${username}`);
  } catch {
    /* storage unavailable */
  }
}
