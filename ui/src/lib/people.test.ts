import { describe, expect, it } from "vitest";
import { presenceLine } from "./people";

const at = (d: number, h: number, m: number) => new Date(2026, 11, d, h, m).getTime();
const NOW = at(10, 16, 0);

describe("presenceLine", () => {
  it("is last known only while not connected", () => {
    const lost = NOW - 5 * 60_000;
    expect(presenceLine("online", null, NOW, "en-GB", { since: lost })).toMatch(/^online as of \d/);
    expect(presenceLine("busy", null, NOW, "en-GB", { since: null })).toBe("busy when last connected");
    expect(presenceLine("offline", null, NOW, "en-GB", { since: lost })).toBe("offline");
    expect(presenceLine("online", null, NOW, "en-GB", null)).toBe("online");
  });

  it("names the status while they are around, whatever last_seen says", () => {
    expect(presenceLine("online", null, NOW, "en-GB")).toBe("online");
    expect(presenceLine("busy", null, NOW, "en-GB")).toBe("busy");
    expect(presenceLine("away", at(10, 14, 2), NOW, "en-GB")).toBe("away");
  });

  it("says when an offline member was last seen", () => {
    expect(presenceLine("offline", at(10, 14, 2), NOW, "en-GB")).toBe("last seen 14:02");
    expect(presenceLine("offline", at(9, 14, 2), NOW, "en-GB")).toBe("last seen yesterday 14:02");
    expect(presenceLine("offline", at(3, 14, 2), NOW, "en-GB")).toBe("last seen 3 Dec");
    expect(presenceLine("offline", at(3, 14, 2), NOW, "en-US")).toBe("last seen Dec 3");
  });

  it("offline without a last seen; invisible reads as offline; unknown is null", () => {
    expect(presenceLine("offline", null, NOW, "en-GB")).toBe("offline");
    expect(presenceLine("invisible", at(10, 14, 2), NOW, "en-GB")).toBe("last seen 14:02");
    expect(presenceLine(null, at(10, 14, 2), NOW, "en-GB")).toBeNull();
  });
});
