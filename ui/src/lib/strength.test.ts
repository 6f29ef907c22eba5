import { describe, expect, it } from "vitest";
import { HUB_MIN_SCORE, loadStrength, meterView } from "./strength";

describe("meterView", () => {
  it("says too short before anything else, then zxcvbn's score in words", () => {
    expect(meterView(null, 0, 12)).toEqual({ bars: 0, label: "", tone: "none" });
    expect(meterView({ score: 4, warning: "", suggestions: [] }, 5, 12)).toMatchObject({ tone: "weak", label: "Too short — at least 12 characters" });
    expect(meterView(null, 14, 12).label).toBe("Checking…");
    expect(meterView({ score: 0, warning: "", suggestions: [] }, 14, 12)).toMatchObject({ bars: 1, tone: "weak" });
    expect(meterView({ score: 2, warning: "", suggestions: [] }, 14, 12)).toMatchObject({ bars: 2, tone: "fair" });
    expect(meterView({ score: 3, warning: "", suggestions: [] }, 14, 12)).toMatchObject({ bars: 3, tone: "good", label: "Good" });
    expect(meterView({ score: 4, warning: "", suggestions: [] }, 14, 12)).toMatchObject({ bars: 4, tone: "strong" });
  });
});

describe("zxcvbn (the estimator the hub uses)", () => {
  it("agrees with the hub's own test passwords", async () => {
    const estimate = await loadStrength();
    for (const weak of ["password1234", "qwertyuiop123", "aaaaaaaaaaaaaaa", "alice-alice-alice"]) {
      expect(estimate(weak, ["alice", "Alice Adams"]).score, weak).toBeLessThan(HUB_MIN_SCORE);
    }
    for (const strong of ["correct horse battery staple", "plum-otter-kettle-93", "Ribbon!Canyon7Lantern"]) {
      expect(estimate(strong, ["alice", "Alice Adams"]).score, strong).toBeGreaterThanOrEqual(HUB_MIN_SCORE);
    }
    expect(estimate("password1234", []).warning).not.toBe("");
  }, 30_000);
});
