// QR codes for two-factor set-up: @paulmillr/qr (loaded on first use; no dependencies, plain ES modules)
// encodes the otpauth:// URL and this turns its module matrix into one SVG path, which the component
// renders as an <svg> element — no markup strings, so nothing from the hub can become HTML, and nothing
// the CSP has to allow. (The `qrcode` package was tried first: its CommonJS build assigns
// `exports.toString`, which throws under Tauri's frozen Object.prototype.)

export interface QrPath {
  /** Modules per side, without the quiet zone. */
  size: number;
  /** The dark modules as one path, in module units, offset by the quiet zone. */
  d: string;
  /** The SVG viewBox side: size + 2 × quiet zone. */
  view: number;
}

/** 4 modules of light margin: what the standard asks for, so phones find the code. */
export const QUIET = 4;

/** A module matrix as a path: one run of dark modules per rectangle, row by row. */
export function modulesToPath(size: number, dark: (row: number, col: number) => boolean, quiet = QUIET): QrPath {
  const parts: string[] = [];
  for (let r = 0; r < size; r++) {
    let c = 0;
    while (c < size) {
      if (!dark(r, c)) {
        c++;
        continue;
      }
      const start = c;
      while (c < size && dark(r, c)) c++;
      parts.push(`M${start + quiet} ${r + quiet}h${c - start}v1h${start - c}z`);
    }
  }
  return { size, d: parts.join(""), view: size + 2 * quiet };
}

/** The QR code of `text` (error correction M), as a path. */
export async function qrPath(text: string): Promise<QrPath> {
  const { encodeQR } = await import("@paulmillr/qr");
  const rows = encodeQR(text, "raw", { ecc: "medium", border: 0 });
  return modulesToPath(rows.length, (r, c) => rows[r][c] === true);
}
