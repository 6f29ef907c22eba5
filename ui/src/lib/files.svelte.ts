// Files and pictures in conversations: what the composer may send (checked again by the engine, which
// reads the type from the content), sending several at once, and the progress of uploads and downloads
// as the engine reports it (`upload` and `download` events).
import type { Attachment } from "../bindings/protocol";
import * as api from "./api";
import { language, t } from "./i18n.svelte";
import { app, toast } from "./store.svelte";

/** The file picker's filter: the same allow-list the engine and the hub check by content. */
export const ACCEPT = [
  "image/jpeg",
  "image/png",
  "image/gif",
  "image/webp",
  "application/pdf",
  ".doc",
  ".docx",
  ".xls",
  ".xlsx",
  ".ppt",
  ".pptx",
  ".odt",
  ".ods",
  ".odp",
  ".rtf",
  ".txt",
  ".csv",
].join(",");

/** The hub's default file limit, for a session that has not heard the hub's own yet. */
const DEFAULT_MAX_FILE_BYTES = 25 * 1024 * 1024;

/** The largest file this user may send: their tenant's limit as the hub announced it (the engine refuses
 * anything bigger before it is queued). */
export function maxFileBytes(): number {
  return app.session?.limits?.attachment_max_bytes ?? DEFAULT_MAX_FILE_BYTES;
}

export interface Progress {
  done: number;
  total: number;
}

/** Uploads by outbox item and downloads by attachment id, as the engine reports them. */
export const files = $state<{
  uploads: Record<number, Progress>;
  downloads: Record<string, Progress>;
  /** The picture open whole: one viewer for the pane, outside the message list's contained chunks. */
  viewing: { room: number; a: Attachment } | null;
}>({
  uploads: {},
  downloads: {},
  viewing: null,
});

/** "2.4 MB", "830 KB", "12 bytes" in the UI's language. */
export function formatBytes(n: number, locale: string = language()): string {
  const units = ["byte", "kilobyte", "megabyte", "gigabyte"] as const;
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const digits = i === 0 || v >= 100 ? 0 : 1;
  return new Intl.NumberFormat(locale, { style: "unit", unit: units[i], unitDisplay: i === 0 ? "narrow" : "short", maximumFractionDigits: digits }).format(v);
}

/** Whole percent of a progress report (0 when the total is unknown). */
export function percent(p: Progress | undefined): number {
  if (!p || p.total <= 0) return 0;
  return Math.min(100, Math.floor((p.done * 100) / p.total));
}

/**
 * Sends each file to the room (a caption goes with the first). A file the engine refuses (its type by
 * content, its size) is named in a toast and nothing of it is queued; the others still go.
 */
export async function sendFiles(room: number, list: File[], caption = ""): Promise<number> {
  let sent = 0;
  for (const [i, f] of list.entries()) {
    const max = maxFileBytes();
    if (f.size > max) {
      toast("error", t("files.too_large_title", { name: f.name }), t("files.too_large_body", { size: formatBytes(max) }));
      continue;
    }
    try {
      const bytes = new Uint8Array(await f.arrayBuffer());
      await api.sendFile(room, f.name || t("files.pasted_name"), bytes, i === 0 ? caption : "");
      sent++;
    } catch (e) {
      toast("error", t("files.refused_title", { name: f.name }), api.describeError(e));
    }
  }
  return sent;
}
