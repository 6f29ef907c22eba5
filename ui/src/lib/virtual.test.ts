import { describe, expect, it } from "vitest";
import { isScaled, MAX_PHYSICAL, physicalFromVirtual, physicalHeight, virtualFromPhysical, visibleRange, wheelPixels } from "./virtual";

describe("virtual scrolling", () => {
  const small = { count: 1000, rowHeight: 40, viewport: 400 };
  const huge = { count: 1_000_000, rowHeight: 44, viewport: 600 };

  it("is identity below the cap", () => {
    expect(isScaled(small)).toBe(false);
    expect(physicalHeight(small)).toBe(40_000);
    expect(virtualFromPhysical(1234, small)).toBe(1234);
    expect(physicalFromVirtual(1234, small)).toBe(1234);
  });
  it("compresses a million rows under the browser's height cap", () => {
    expect(isScaled(huge)).toBe(true);
    expect(physicalHeight(huge)).toBe(MAX_PHYSICAL);
    const maxP = MAX_PHYSICAL - 600;
    expect(virtualFromPhysical(0, huge)).toBe(0);
    expect(virtualFromPhysical(maxP, huge)).toBe(1_000_000 * 44 - 600);
    const mid = virtualFromPhysical(maxP / 2, huge);
    expect(Math.round(mid / 44)).toBeGreaterThan(499_000);
    expect(physicalFromVirtual(mid, huge)).toBeCloseTo(maxP / 2, 3);
  });
  it("computes the rendered range with overscan", () => {
    expect(visibleRange(0, small, 2)).toEqual({ start: 0, end: 12 });
    expect(visibleRange(4000, small, 2)).toEqual({ start: 98, end: 112 });
    expect(visibleRange(40_000, small, 2)).toEqual({ start: 998, end: 1000 });
    expect(visibleRange(0, { ...small, count: 0 })).toEqual({ start: 0, end: 0 });
  });
  it("normalises wheel deltas", () => {
    expect(wheelPixels({ deltaY: 100, deltaMode: 0 }, 500)).toBe(100);
    expect(wheelPixels({ deltaY: 3, deltaMode: 1 }, 500)).toBe(120);
    expect(wheelPixels({ deltaY: 1, deltaMode: 2 }, 500)).toBe(500);
  });
});
