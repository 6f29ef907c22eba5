// Files and pictures in the fake, as the engine and hub handle them: the type read from the first bytes
// against the same allow-list (a refused file is never queued), a pending message with upload progress
// events, then the message as the hub stores it (a content id, a picture's size and thumbnail). Pictures
// are served back as data: URLs of their own bytes.
import type { AppEvent, CommandError, FileCache, MessageView } from "../../src/bindings/app";
import type { Attachment, AttachmentKind, UserSummary } from "../../src/bindings/protocol";

export interface FileHost {
  me(): UserSummary;
  live(): boolean;
  tick(): number;
  cap(): number;
  /** The largest file, as the session's limits say. */
  maxFile(): number;
  /** The room's messages (pushed to, replaced in). */
  messages(room: number): MessageView[];
  nextOutbox(): number;
  nextSeq(room: number): number;
  changed(room: number): void;
  emit(ev: AppEvent): void;
}

const fail = (code: CommandError["code"], message: string): CommandError => ({ code, message });

/** The allow-list by content, as tally_protocol::attachment::sniff decides it. */
export function sniff(b: Uint8Array): { mime: string; kind: AttachmentKind } | null {
  const starts = (...sig: number[]) => sig.every((x, i) => b[i] === x);
  if (starts(0xff, 0xd8, 0xff)) return { mime: "image/jpeg", kind: "image" };
  if (starts(0x89, 0x50, 0x4e, 0x47)) return { mime: "image/png", kind: "image" };
  if (starts(0x47, 0x49, 0x46, 0x38)) return { mime: "image/gif", kind: "image" };
  if (starts(0x52, 0x49, 0x46, 0x46) && b[8] === 0x57 && b[9] === 0x45) return { mime: "image/webp", kind: "image" };
  if (starts(0x25, 0x50, 0x44, 0x46)) return { mime: "application/pdf", kind: "file" };
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(b.subarray(0, 65536));
    if (!text.includes("\0") && !text.trimStart().startsWith("<")) return { mime: "text/plain", kind: "file" };
  } catch {
    /* not text */
  }
  return null;
}

function dataUrl(mime: string, b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i += 0x8000) s += String.fromCharCode(...b.subarray(i, i + 0x8000));
  return `data:${mime};base64,${btoa(s)}`;
}

/** PNG's own width and height (IHDR), else a 4:3 guess. */
function dimensions(b: Uint8Array): [number, number] {
  if (b[0] === 0x89 && b.length > 24) {
    const v = new DataView(b.buffer, b.byteOffset);
    return [v.getUint32(16), v.getUint32(20)];
  }
  return [640, 480];
}

export class FakeFiles {
  /** Bytes by attachment id. */
  private blobs = new Map<string, { mime: string; bytes: Uint8Array }>();
  private nextId = 1;
  kept = 0;
  /** Names passed to `save_attachment` (the fake's save dialog always says yes). */
  saved: string[] = [];

  constructor(private host: FileHost) {}

  send(room: number, name: string, bytes: Uint8Array, caption: string): MessageView {
    if (bytes.length === 0) throw fail("invalid_input", "the file is empty");
    const kind = sniff(bytes);
    if (!kind) throw fail("unsupported_type", "this kind of file cannot be sent; send pictures, PDFs, office documents or plain text");
    const max = this.host.maxFile();
    if (bytes.length > max) throw fail("too_large", `files can be at most ${Math.floor((max * 10) / 1048576) / 10} MiB here`);
    const attachment: Attachment = { id: "", name, size: bytes.length, mime: kind.mime, kind: kind.kind, thumbnail: false };
    const mv: MessageView = {
      message: { id: 0, room, seq: 0, client_msg_id: `f-${this.nextId++}`, sender: this.host.me(), text: caption, mentions: [], sent_at: Date.now(), deleted: false, reactions: [], attachment },
      local: { state: "pending" },
      outbox_id: this.host.nextOutbox(),
      read_by: [],
      card: null,
    };
    this.host.messages(room).push(mv);
    this.host.changed(room);
    if (this.host.live()) this.upload(room, mv, bytes, kind.mime, 0);
    return structuredClone(mv);
  }

  /** Four progress reports a tick apart, then the stored message (unless it was cancelled meanwhile). */
  private upload(room: number, mv: MessageView, bytes: Uint8Array, mime: string, step: number): void {
    setTimeout(() => {
      if (!this.host.messages(room).includes(mv)) return; // discarded: cancelled
      const total = bytes.length;
      if (step < 4) {
        this.host.emit({ type: "upload", item: mv.outbox_id!, sent: Math.floor((total * (step + 1)) / 4), total });
        return this.upload(room, mv, bytes, mime, step + 1);
      }
      const id = this.store(mime, bytes);
      const a = mv.message.attachment!;
      a.id = id;
      if (a.kind === "image") {
        [a.width, a.height] = dimensions(bytes);
        a.thumbnail = true;
      }
      const seq = this.host.nextSeq(room);
      Object.assign(mv.message, { seq, id: room * 1000 + seq });
      mv.local = { state: "sent" };
      mv.outbox_id = null;
      this.host.changed(room);
    }, this.host.tick());
  }

  store(mime: string, bytes: Uint8Array): string {
    const id = `${(this.nextId++).toString(16).padStart(8, "0")}${"ab".repeat(28)}`;
    this.blobs.set(id, { mime, bytes });
    return id;
  }

  /** A picture someone else sent, already on the hub. */
  incoming(room: number, sender: UserSummary, name: string, png: Uint8Array, width: number, height: number): MessageView {
    const id = this.store("image/png", png);
    const seq = this.host.nextSeq(room);
    const mv: MessageView = {
      message: {
        id: room * 1000 + seq, room, seq, client_msg_id: `in-f-${seq}`, sender, text: "", mentions: [], sent_at: Date.now(), deleted: false, reactions: [],
        attachment: { id, name, size: png.length, mime: "image/png", kind: "image", width, height, thumbnail: true },
      },
      local: { state: "sent" },
      outbox_id: null,
      read_by: [],
      card: null,
    };
    this.host.messages(room).push(mv);
    return mv;
  }

  picture(id: string): string {
    const b = this.blobs.get(id);
    if (!b) throw fail("not_found", "no such file");
    this.kept += b.bytes.length;
    return dataUrl(b.mime, b.bytes);
  }

  saveAs(id: string, name: string): string {
    if (!this.blobs.has(id)) throw fail("not_found", "no such file");
    this.saved.push(name);
    return `/home/you/Downloads/${name}`;
  }

  cache(): FileCache {
    return { used_bytes: this.kept, cap_mb: this.host.cap() };
  }
}
