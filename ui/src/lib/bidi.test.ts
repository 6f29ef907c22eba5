import { describe, expect, it } from "vitest";
import { bidiSafe, hasBidiControls } from "./bidi";

describe("bidiSafe", () => {
  it("strips embeddings, overrides and isolates, so 'evil' cannot read 'live'", () => {
    expect(bidiSafe("\u202Eevil")).toBe("evil");
    expect(bidiSafe("Pay \u202Alast\u202C \u202Bweek\u202C \u202Dx\u202C")).toBe("Pay last week x");
    expect(bidiSafe("\u2066a\u2069\u2067b\u2069\u2068c\u2069")).toBe("abc");
    expect(hasBidiControls("\u202Eevil")).toBe(true);
    expect(hasBidiControls("evil")).toBe(false);
  });
  it("keeps right-to-left text and the implicit marks", () => {
    expect(bidiSafe("שלום \u200Fעולם\u200E, مرحبا\u061C")).toBe("שלום \u200Fעולם\u200E, مرحبا\u061C");
    expect(bidiSafe("Pizza 🍕 <b>&amp;</b>")).toBe("Pizza 🍕 <b>&amp;</b>");
  });
});
