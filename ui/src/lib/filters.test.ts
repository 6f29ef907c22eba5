import { describe, expect, it } from "vitest";
import { activeFilterCount, buildFilter, emptyFilter, emptyForm } from "./filters";

describe("buildFilter", () => {
  it("an empty form is an empty filter", () => {
    expect(buildFilter(emptyForm()).filter).toEqual(emptyFilter());
    expect(buildFilter(emptyForm()).errors).toEqual({});
  });
  it("maps every field", () => {
    const { filter, errors } = buildFilter(
      {
        from: "2026-01-01",
        to: "2026-01-31",
        direction: "out",
        kinds: ["withdrawal", "transfer_out"],
        counterparty: "  bob ",
        min: "10",
        max: "1,000.50",
        currency: "USD",
        search: " pizza ",
      },
      "en-US",
    );
    expect(errors).toEqual({});
    expect(filter).toEqual({
      from: new Date(2026, 0, 1).getTime(),
      to: new Date(2026, 0, 31, 23, 59, 59, 999).getTime(),
      direction: "out",
      kinds: ["transfer_out", "withdrawal"],
      counterparty: "bob",
      min_minor: 1000,
      max_minor: 100050,
      currency: "USD",
      search: "pizza",
    });
    expect(activeFilterCount(filter)).toBe(5);
  });
  it("reports invalid fields and leaves them out", () => {
    const { filter, errors } = buildFilter({ ...emptyForm("USD"), from: "2026-02-01", to: "2026-01-01", min: "abc", max: "5" }, "en-US");
    expect(errors.to).toMatch(/before the start/);
    expect(errors.min).toMatch(/digits/);
    expect(filter.to).toBeNull();
    expect(filter.min_minor).toBeNull();
    expect(filter.max_minor).toBe(500);
  });
  it("rejects max below min", () => {
    const { filter, errors } = buildFilter({ ...emptyForm("USD"), min: "50", max: "5" }, "en-US");
    expect(errors.max).toMatch(/below the minimum/);
    expect(filter.min_minor).toBe(5000);
    expect(filter.max_minor).toBeNull();
  });
  it("parses amounts in the filter's currency", () => {
    expect(buildFilter({ ...emptyForm("JPY"), min: "1500" }, "en-US").filter.min_minor).toBe(1500);
  });
});
