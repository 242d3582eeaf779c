// Every log line written while a request is served carries the request's id, the same as its access
// line: in the fast ACME route outside Next.js and in a REST route inside it (Next's module copy).
import { afterAll, describe, expect, it } from "vitest";
import { postgresRelay } from "@attested/db/testing";
import { freshPostgres, startPortal, tempDir } from "./harness";

type LogLine = Record<string, unknown> & { requestId?: string; msg?: string; level?: number };

describe.skipIf(!process.env.DATABASE_URL)("request ids in the log", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanup.reverse()) await c();
  });

  it("puts the access line's request id on the error lines of a failing ACME and REST request", async () => {
    const db = await freshPostgres();
    cleanup.push(db.drop);
    const relay = await postgresRelay(db.url);
    cleanup.push(relay.cut);
    const portal = await startPortal({ DATABASE_URL: relay.url, DATA_DIR: tempDir(), ADMIN_PASSWORD: "bootstrap-password-1" });
    cleanup.push(portal.stop);
    // The database goes away: both requests fail inside their handlers, which log why.
    await relay.cut();
    const acme = await fetch(`${portal.url}/acme/${"A".repeat(32)}/directory`);
    expect(acme.status).toBe(503);
    const rest = await fetch(`${portal.url}/api/v1/certificates`, { headers: { authorization: `Bearer apki_${"t".repeat(40)}` } });
    expect(rest.status).toBe(503);
    const acmeId = acme.headers.get("x-request-id")!;
    const restId = rest.headers.get("x-request-id")!;
    expect(acmeId).toBeTruthy();
    expect(restId).not.toBe(acmeId);

    const lines = () =>
      portal
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as LogLine);
    const linesOf = (id: string) => lines().filter((l) => l.requestId === id);
    // Lines are buffered: out within about a second.
    const complete = (id: string, error: string) => linesOf(id).some((l) => l.msg === "request") && linesOf(id).some((l) => l.msg === error);
    await expect.poll(() => complete(acmeId, "acme request failed") && complete(restId, "api request failed"), { timeout: 10_000, interval: 200 }).toBe(true);

    expect(linesOf(acmeId).find((l) => l.msg === "request")).toMatchObject({ status: 503, url: "/acme/[secret]/directory" });
    expect(linesOf(acmeId).find((l) => l.msg === "acme request failed")).toMatchObject({ level: 50, err: expect.any(Object) });
    expect(linesOf(restId).find((l) => l.msg === "request")).toMatchObject({ status: 503, url: "/api/v1/certificates" });
    expect(linesOf(restId).find((l) => l.msg === "api request failed")).toMatchObject({ level: 50, err: expect.any(Object) });
    // The bearer token is not in the log.
    expect(portal.output()).not.toContain("t".repeat(40));
  });
});
