import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "./testing";
import { NonceService } from "./nonces";

// Signed nonces (RFC 8555 §6.5 replay protection without a database write per issued nonce): any
// instance with the same key accepts a nonce once, within its lifetime, and nothing else.

const LIFETIME = 60_000;
const make = (store: MemoryStore, key: Buffer, now: () => Date) => new NonceService(store, LIFETIME, now, () => {}, 60_000, key);

describe("signed nonces", () => {
  const key = randomBytes(32);

  it("are accepted once, by any instance sharing the key and the store", async () => {
    const store = new MemoryStore();
    const clock = () => new Date();
    const a = make(store, key, clock);
    const b = make(store, key, clock);
    const n = await a.issue();
    expect(store.nonceCount).toBe(0); // issuing writes nothing
    const uses = await Promise.all([a.consume(n), b.consume(n), b.consume(n)]);
    expect(uses.filter(Boolean)).toHaveLength(1);
    expect(await b.consume(await a.issue())).toBe(true);
  });

  it("refuse forged, altered, foreign-key, expired and future nonces", async () => {
    const store = new MemoryStore();
    let t = Date.now();
    const svc = make(store, key, () => new Date(t));
    const n = await svc.issue();
    const raw = Buffer.from(n, "base64url");
    for (const i of [0, 7, 20, raw.length - 1]) {
      const bad = Buffer.from(raw);
      bad[i] ^= 1;
      expect(await svc.consume(bad.toString("base64url"))).toBe(false);
    }
    expect(await svc.consume(randomBytes(34).toString("base64url"))).toBe(false);
    expect(await make(store, randomBytes(32), () => new Date(t)).consume(n)).toBe(false);
    expect(await svc.consume(`${n}A`)).toBe(false);

    const old = await svc.issue();
    t += LIFETIME + 1;
    expect(await svc.consume(old)).toBe(false);
    const future = await make(store, key, () => new Date(t + 10 * 60_000)).issue();
    expect(await svc.consume(future)).toBe(false);
    expect(await svc.consume(n)).toBe(false); // expired meanwhile too
  });
});
