import { describe, expect, it } from "vitest";
import { ConfigCache } from "./config-cache";
import { InvalidationBus, isInvalidation, type Invalidation } from "./invalidation";

describe("invalidation bus", () => {
  it("a change published here reaches this process's caches and the siblings; one from a sibling is applied here only", async () => {
    const bus = new InvalidationBus();
    const sent: Invalidation[] = [];
    bus.remote = (i) => sent.push(i);
    const config = new ConfigCache(bus);
    let loads = 0;
    const load = async () => ++loads;
    expect(await config.get("k", load)).toBe(1);
    expect(await config.get("k", load)).toBe(1); // cached
    config.forget();
    expect(await config.get("k", load)).toBe(2);
    expect(sent).toEqual([{ kind: "config" }]);
    bus.deliver({ kind: "config" }); // from a sibling
    expect(await config.get("k", load)).toBe(3);
    expect(sent).toHaveLength(1); // not sent back
    bus.publish({ kind: "ocsp", caId: "ca-1" }); // not the configuration cache's
    expect(await config.get("k", load)).toBe(3);
  });

  it("only well-formed invalidations are taken from another process", () => {
    expect(isInvalidation({ kind: "platforms" })).toBe(true);
    expect(isInvalidation({ kind: "ocsp", caId: "x" })).toBe(true);
    expect(isInvalidation({ kind: "ocsp" })).toBe(false);
    expect(isInvalidation({ what: "config" })).toBe(false);
    expect(isInvalidation(null)).toBe(false);
  });
});
