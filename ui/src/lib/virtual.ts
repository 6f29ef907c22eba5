// Fixed-row virtual scrolling with scaling. Browsers cap an element's height near 33.5 M px (Chromium
// and WebKit alike), and 1,000,000 rows × 40 px is 40 M px, so when the list is taller than
// MAX_PHYSICAL the scroll area is compressed: dragging the scrollbar maps proportionally, while wheel,
// touchpad and keys move the content 1:1 (the caller drives those and writes the matching scrollTop).

export const MAX_PHYSICAL = 8_000_000;

export interface Geometry {
  count: number;
  rowHeight: number;
  /** Height of the area rows scroll through (viewport minus sticky header). */
  viewport: number;
}

export function virtualHeight(g: Geometry): number {
  return g.count * g.rowHeight;
}

export function physicalHeight(g: Geometry): number {
  return Math.min(virtualHeight(g), MAX_PHYSICAL);
}

export function isScaled(g: Geometry): boolean {
  return virtualHeight(g) > MAX_PHYSICAL;
}

export function maxVirtualOffset(g: Geometry): number {
  return Math.max(0, virtualHeight(g) - g.viewport);
}

export function maxPhysicalOffset(g: Geometry): number {
  return Math.max(0, physicalHeight(g) - g.viewport);
}

export function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Where a scrollbar position (scrollTop) points in the full list. */
export function virtualFromPhysical(scrollTop: number, g: Geometry): number {
  if (!isScaled(g)) return clamp(scrollTop, 0, maxVirtualOffset(g));
  const maxP = maxPhysicalOffset(g);
  if (maxP <= 0) return 0;
  return clamp((scrollTop / maxP) * maxVirtualOffset(g), 0, maxVirtualOffset(g));
}

/** The scrollTop that represents a position in the full list. */
export function physicalFromVirtual(offset: number, g: Geometry): number {
  if (!isScaled(g)) return clamp(offset, 0, maxPhysicalOffset(g));
  const maxV = maxVirtualOffset(g);
  if (maxV <= 0) return 0;
  return clamp((offset / maxV) * maxPhysicalOffset(g), 0, maxPhysicalOffset(g));
}

/** Rows to render for a virtual offset: [start, end), with `overscan` extra rows either side. */
export function visibleRange(offset: number, g: Geometry, overscan = 6): { start: number; end: number } {
  if (g.count === 0) return { start: 0, end: 0 };
  const first = Math.floor(offset / g.rowHeight);
  const last = Math.ceil((offset + g.viewport) / g.rowHeight);
  return { start: clamp(first - overscan, 0, g.count), end: clamp(last + overscan, 0, g.count) };
}

/** Wheel delta in pixels whatever the deltaMode (pixels, lines, pages). */
export function wheelPixels(e: { deltaY: number; deltaMode: number }, viewport: number): number {
  if (e.deltaMode === 1) return e.deltaY * 40;
  if (e.deltaMode === 2) return e.deltaY * viewport;
  return e.deltaY;
}
