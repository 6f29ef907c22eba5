// Pure helpers for the chat pane: grouping bubbles, day separators, mention segments.
import type { MessageView } from "../bindings/app";
import type { UserSummary } from "../bindings/protocol";
import { dayKey } from "./dates";

export interface Segment {
  text: string;
  /** "self" when it mentions the current user, "other" for another member, null for plain text. */
  mention: "self" | "other" | null;
}

/** Splits message text into plain and @mention segments (rendered as text nodes, never HTML). */
export function segments(text: string, members: UserSummary[], me: UserSummary | null): Segment[] {
  const names = new Set(members.map((m) => m.username.toLowerCase()));
  const out: Segment[] = [];
  const re = /@([A-Za-z0-9_.-]+)/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const name = m[1].replace(/[.-]+$/, "");
    if (!names.has(name.toLowerCase())) continue;
    if (m.index > last) out.push({ text: text.slice(last, m.index), mention: null });
    const token = "@" + name;
    out.push({ text: token, mention: me && name.toLowerCase() === me.username.toLowerCase() ? "self" : "other" });
    last = m.index + token.length;
    re.lastIndex = last;
  }
  if (last < text.length) out.push({ text: text.slice(last), mention: null });
  return out;
}

export interface ChatItem {
  /** "unread": the line above the first message not read when the room was opened. */
  kind: "day" | "unread" | "message";
  key: string;
  day?: number;
  mv?: MessageView;
  /** First bubble of a run by the same sender (shows name/avatar). */
  groupStart?: boolean;
  /** Last bubble of the run (shows time and ticks). */
  groupEnd?: boolean;
}

const GROUP_GAP_MS = 5 * 60_000;

export function messageKey(mv: MessageView): string {
  return mv.message.client_msg_id || `id:${mv.message.id}`;
}

/**
 * The seq of the first of the room's `unread` newest messages from others (deleted ones are not counted,
 * as the engine does not count them), or null when there are none or they are not all loaded.
 */
export function firstUnread(list: readonly MessageView[], unread: number, me: number | null): number | null {
  if (unread <= 0) return null;
  let seen = 0;
  for (let i = list.length - 1; i >= 0; i--) {
    const m = list[i].message;
    if (m.sender.id === me || m.deleted || m.seq <= 0) continue;
    if (++seen === unread) return m.seq;
  }
  return null;
}

/** Messages (oldest first) → day separators, the unread line (before `unreadFrom`) and grouped bubbles. */
export function buildChatItems(list: MessageView[], unreadFrom: number | null = null): ChatItem[] {
  const items: ChatItem[] = [];
  let prev: MessageView | null = null;
  for (let i = 0; i < list.length; i++) {
    const mv = list[i];
    const t = mv.message.sent_at;
    const newDay = !prev || dayKey(prev.message.sent_at) !== dayKey(t);
    if (newDay) items.push({ kind: "day", key: `day:${dayKey(t)}`, day: t });
    const unreadLine = unreadFrom !== null && mv.message.seq === unreadFrom;
    if (unreadLine) items.push({ kind: "unread", key: "unread" });
    const groupStart =
      newDay || unreadLine || !prev || prev.message.sender.id !== mv.message.sender.id || t - prev.message.sent_at > GROUP_GAP_MS;
    const next = list[i + 1];
    const groupEnd =
      !next ||
      next.message.sender.id !== mv.message.sender.id ||
      dayKey(next.message.sent_at) !== dayKey(t) ||
      next.message.sent_at - t > GROUP_GAP_MS;
    items.push({ kind: "message", key: messageKey(mv), mv, groupStart, groupEnd });
    prev = mv;
  }
  return items;
}

export interface ChatChunk {
  key: string;
  items: ChatItem[];
}

/**
 * Items → runs of about `size` messages, keyed by the room-log seq (`floor(seq / size)`), so loading older
 * messages only adds chunks in front and a new message only touches the last one. Each chunk is rendered
 * with `content-visibility: auto`: the browser skips style, layout, paint and hit-testing of the chunks out
 * of view, so a room with thousands of messages loaded costs what the screenful in view costs. Local echoes
 * (seq 0) join the chunk before them; a day separator joins the chunk of the message after it.
 */
export function chunkChatItems(items: ChatItem[], size = 50): ChatChunk[] {
  const chunks: ChatChunk[] = [];
  let current: ChatChunk | null = null;
  let currentId: number | null = null;
  let waiting: ChatItem[] = [];
  for (const it of items) {
    if (it.kind !== "message" || !it.mv) {
      waiting.push(it);
      continue;
    }
    const seq = it.mv.local.state === "sent" ? it.mv.message.seq : 0;
    const id: number = seq > 0 ? Math.floor(seq / size) : (currentId ?? 0);
    if (!current || id !== currentId) {
      current = { key: `chunk:${id}`, items: [] };
      // Seqs only grow along the list, but never let two chunks share a key.
      if (chunks.some((c) => c.key === current!.key)) current.key = `${current.key}:${chunks.length}`;
      chunks.push(current);
      currentId = id;
    }
    current.items.push(...waiting, it);
    waiting = [];
  }
  if (waiting.length) {
    if (!current) chunks.push((current = { key: "chunk:head", items: [] }));
    current.items.push(...waiting);
  }
  return chunks;
}

/**
 * A re-read of the newest `fresh` messages merged with what is already loaded: messages older than the
 * page stay (a room scrolled back through thousands keeps them when one more arrives); the page replaces
 * everything from its oldest message on (edits, deletions, local echoes that were sent).
 */
export function mergeNewest(list: MessageView[], fresh: MessageView[], limit: number): MessageView[] {
  if (fresh.length < limit) return fresh; // the page reaches the start of the room: it is everything
  const oldest = fresh.find((m) => m.local.state === "sent" && m.message.seq > 0)?.message.seq;
  if (oldest === undefined) return fresh;
  const older = list.filter((m) => m.local.state === "sent" && m.message.seq > 0 && m.message.seq < oldest);
  return older.length ? [...older, ...fresh] : fresh;
}

/** The highest room-log seq among loaded messages, for `mark_read`. */
export function lastSeq(list: MessageView[]): number {
  let max = 0;
  for (const m of list) if (m.local.state === "sent" && m.message.seq > max) max = m.message.seq;
  return max;
}

export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉", "😮", "🙏"] as const;
