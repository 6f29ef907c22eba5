import decodeQR from "@paulmillr/qr/decode.js";
import { describe, expect, it } from "vitest";
import { modulesToPath, qrPath, QUIET } from "./qr";

/** Rasterises a path of `M x y h w v1 h -w z` runs at `scale` px per module (what the <svg> draws). */
function raster(d: string, view: number, scale: number): { data: Uint8ClampedArray; size: number } {
  const size = view * scale;
  const data = new Uint8ClampedArray(size * size * 4).fill(255);
  for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
    const [x, y, w] = [Number(m[1]), Number(m[2]), Number(m[3])];
    for (let py = y * scale; py < (y + 1) * scale; py++) {
      for (let px = x * scale; px < (x + w) * scale; px++) {
        const i = (py * size + px) * 4;
        data[i] = data[i + 1] = data[i + 2] = 0;
      }
    }
  }
  return { data, size };
}

describe("QR codes", () => {
  it("turns each run of dark modules into one rectangle, inside the quiet zone", () => {
    const grid = ["##.#", "....", ".###", "#..."];
    const p = modulesToPath(4, (r, c) => grid[r][c] === "#");
    expect(p.view).toBe(4 + 2 * QUIET);
    expect(p.d).toBe("M4 4h2v1h-2zM7 4h1v1h-1zM5 6h3v1h-3zM4 7h1v1h-1z");
  });

  it("encodes the otpauth:// URL so a camera reads it back", async () => {
    const url = "otpauth://totp/Tally:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Tally&algorithm=SHA1&digits=6&period=30";
    const p = await qrPath(url);
    expect(p.size).toBeGreaterThanOrEqual(21);
    const { data, size } = raster(p.d, p.view, 4);
    expect(decodeQR({ width: size, height: size, data })).toBe(url);
  });
});
