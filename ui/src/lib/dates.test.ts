import { describe, expect, it } from "vitest";
import { daysAgo, formatLastSeen } from "./dates";

// Local times, so the expectations hold in any time zone.
const at = (d: number, h: number, m: number, month = 11, year = 2026) => new Date(year, month, d, h, m).getTime();
const NOW = at(10, 9, 30);

describe("daysAgo", () => {
  it("counts local calendar days", () => {
    expect(daysAgo(at(10, 0, 1), NOW)).toBe(0);
    expect(daysAgo(at(9, 23, 59), NOW)).toBe(1);
    expect(daysAgo(at(3, 12, 0), NOW)).toBe(7);
    expect(daysAgo(at(11, 8, 0), NOW)).toBe(-1);
  });
});

describe("formatLastSeen", () => {
  it("today: the time", () => {
    expect(formatLastSeen(at(10, 8, 2), "en-GB", NOW)).toBe("08:02");
    expect(formatLastSeen(at(10, 8, 2), "en-US", NOW)).toBe("8:02 AM");
  });

  it("yesterday: the word from Intl, then the time", () => {
    expect(formatLastSeen(at(9, 14, 2), "en-GB", NOW)).toBe("yesterday 14:02");
    expect(formatLastSeen(at(9, 14, 2), "en-US", NOW)).toBe("yesterday 2:02 PM");
    expect(formatLastSeen(at(9, 14, 2), "de-DE", NOW)).toBe("gestern 14:02");
  });

  it("older: the day and month, with the year when not this year", () => {
    expect(formatLastSeen(at(3, 14, 2), "en-GB", NOW)).toBe("3 Dec");
    expect(formatLastSeen(at(3, 14, 2), "en-US", NOW)).toBe("Dec 3");
    expect(formatLastSeen(at(20, 14, 2, 10, 2025), "en-GB", NOW)).toBe("20 Nov 2025");
  });

  it("a time ahead of this clock (skew) reads as today", () => {
    expect(formatLastSeen(NOW + 60_000, "en-GB", NOW)).toBe("09:31");
  });
});
