import { describe, expect, it, vi } from "vitest";

vi.mock("./api", () => ({ takeLink: vi.fn() }));
import { payLink } from "./links";

describe("payLink", () => {
  it("is the user alone without an amount", () => {
    expect(payLink("alice", null, 2)).toBe("tally://pay?to=alice");
    expect(payLink("alice", { minor: 0, currency: "USD" }, 2)).toBe("tally://pay?to=alice");
  });
  it("writes the amount with the currency's decimals, never a float", () => {
    expect(payLink("alice", { minor: 1250, currency: "USD" }, 2)).toBe("tally://pay?to=alice&amount=12.50&currency=USD");
    expect(payLink("alice", { minor: 5, currency: "USD" }, 2)).toBe("tally://pay?to=alice&amount=0.05&currency=USD");
    expect(payLink("bo.b-1", { minor: 1500, currency: "JPY" }, 0)).toBe("tally://pay?to=bo.b-1&amount=1500&currency=JPY");
    expect(payLink("alice", { minor: 1001, currency: "KWD" }, 3)).toBe("tally://pay?to=alice&amount=1.001&currency=KWD");
  });
});
