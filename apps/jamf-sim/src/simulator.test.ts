import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRsql, startJamfSimulator, type JamfSimulator } from "./server";

let sim: JamfSimulator;
beforeAll(async () => {
  sim = await startJamfSimulator({
    clientId: "cid",
    clientSecret: "secret",
    tokenLifetimeS: 2,
    devices: [
      ...Array.from({ length: 5 }, (_, i) => ({ serialNumber: `C02SIM00${i}`, name: `Mac ${i}` })),
      { serialNumber: "F4PHONE", kind: "mobile" as const, name: "Phone" },
    ],
  });
});
afterAll(() => sim.close());

const token = async (secret = "secret") =>
  fetch(`${sim.url}/api/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "client_credentials", client_id: "cid", client_secret: secret }),
  });
const get = async (path: string, t: string) => fetch(`${sim.url}${path}`, { headers: { authorization: `Bearer ${t}` } });

describe("Jamf Pro simulator", () => {
  it("issues tokens for the client credentials only, and refuses expired or unknown tokens", async () => {
    expect((await token("nope")).status).toBe(401);
    const body = (await (await token()).json()) as { access_token: string; token_type: string; expires_in: number };
    expect(body).toMatchObject({ token_type: "Bearer", expires_in: 1 });
    expect((await get("/api/v1/computers-inventory", body.access_token)).status).toBe(200);
    expect((await get("/api/v1/computers-inventory", "forged")).status).toBe(401);
  });

  it("pages the inventory with page and page-size, filters with RSQL, and returns only the sections asked for", async () => {
    const t = ((await (await token()).json()) as { access_token: string }).access_token;
    const page = async (n: number) =>
      (await (await get(`/api/v1/computers-inventory?section=HARDWARE&page=${n}&page-size=2`, t)).json()) as {
        totalCount: number;
        results: { hardware: { serialNumber: string }; general: unknown }[];
      };
    const pages = await Promise.all([0, 1, 2, 3].map(page));
    expect(pages.map((p) => p.totalCount)).toEqual([5, 5, 5, 5]);
    expect(pages.flatMap((p) => p.results.map((r) => r.hardware.serialNumber))).toEqual(["C02SIM000", "C02SIM001", "C02SIM002", "C02SIM003", "C02SIM004"]);
    expect(pages[0]!.results[0]!.general).toBeNull();
    const one = (await (await get(`/api/v1/computers-inventory?filter=${encodeURIComponent('hardware.serialNumber=="C02SIM003"')}`, t)).json()) as {
      results: { general: { name: string } }[];
    };
    expect(one.results.map((r) => r.general.name)).toEqual(["Mac 3"]);
    const mobile = await (await get(`/api/v2/mobile-devices/detail?section=GENERAL&filter=${encodeURIComponent("hardware.serialNumber==F4*")}`, t)).json();
    expect(mobile).toMatchObject({ totalCount: 1, results: [{ general: { displayName: "Phone" } }] });
    expect((await get("/api/v1/computers-inventory?page-size=2001", t)).status).toBe(400);
    expect((await get(`/api/v1/computers-inventory?filter=${encodeURIComponent("hardware.serialNumber=~x")}`, t)).status).toBe(400);
    expect(parseRsql("a==\"x;y\";b!=z and c=='q'")).toEqual([
      { field: "a", op: "==", value: "x;y" },
      { field: "b", op: "!=", value: "z" },
      { field: "c", op: "==", value: "q" },
    ]);
  });
});
