// Mention autocomplete in the composer: the `@name` being typed at the caret, the room's members it could
// be, and the text with the chosen one filled in. `@username` of a member is what the hub reads as a
// mention (docs/PROTOCOL.md, Messages); the same characters as lib/chat.ts highlights.
import type { UserSummary } from "../bindings/protocol";

/** Most names the list offers at once. */
export const MAX_CANDIDATES = 8;

export interface MentionQuery {
  /** Where the `@` is. */
  start: number;
  /** What follows it up to the caret. */
  query: string;
}

const NAME_CHARS = /^[A-Za-z0-9_.-]*$/;

/** The mention being typed at `caret`: an `@` at the start or after a space, then name characters only. */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const at = before.lastIndexOf("@");
  if (at < 0) return null;
  const query = before.slice(at + 1);
  if (!NAME_CHARS.test(query) || query.length > 64) return null;
  if (at > 0 && !/\s/.test(before[at - 1])) return null; // an e-mail address, not a mention
  return { start: at, query };
}

/** Members (not `me`) whose username or a word of whose name starts with the query; usernames first. */
export function candidates(members: readonly UserSummary[], query: string, me: number | null): UserSummary[] {
  const q = query.toLocaleLowerCase();
  const byName = (u: UserSummary) => u.username.toLocaleLowerCase().startsWith(q);
  const byWord = (u: UserSummary) => u.display_name.toLocaleLowerCase().split(/\s+/).some((w) => w.startsWith(q));
  const others = members.filter((u) => u.id !== me);
  const first = others.filter(byName);
  const then = others.filter((u) => !byName(u) && byWord(u));
  return [...first, ...then].slice(0, MAX_CANDIDATES);
}

/**
 * The text with the mention at `m` replaced by `@username` and where the caret goes after it: a space
 * follows unless the text after it already starts with one or with punctuation.
 */
export function complete(text: string, m: MentionQuery, username: string): { text: string; caret: number } {
  const rest = text.slice(m.start + 1 + m.query.length);
  const space = rest === "" || /^[A-Za-z0-9_.-]/.test(rest) ? " " : "";
  const insert = `@${username}${space}`;
  const caret = m.start + insert.length + (rest.startsWith(" ") ? 1 : 0);
  return { text: text.slice(0, m.start) + insert + rest, caret };
}
