import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseFilter, startIntuneSimulator, type IntuneSimulator } from "./server";

let sim: IntuneSimulator;
beforeAll(async () => {
  sim = await startIntuneSimulator({
    tenantId: "tenant-1",
    clientId: "cid",
    clientSecret: "secret",
    rateLimit: { requests: 5, windowMs: 60_000 },
    devices: Array.from({ length: 5 }, (_, i) => ({ serialNumber: `C02INT00${i}`, complianceState: i === 4 ? ("noncompliant" as const) : undefined })),
  });
});
afterAll(() => sim.close());

const token = async (form: Record<string, string> = {}) =>
  fetch(sim.tokenUrl, {
    method: "POST",
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: "cid",
      client_secret: "secret",
      scope: "https://graph.microsoft.com/.default",
      ...form,
    }),
  });

describe("Intune (Entra ID + Graph) simulator", () => {
  it("answers the token endpoint as Entra ID does", async () => {
    expect(await (await token({ scope: "DeviceManagementManagedDevices.Read.All" })).json()).toMatchObject({ error: "invalid_scope", error_codes: [1002012] });
    const bad = await token({ client_secret: "x" });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toMatchObject({ error: "invalid_client", error_codes: [7000215] });
    expect(await (await token()).json()).toMatchObject({ token_type: "Bearer", expires_in: 3599 });
  });

  it("pages with @odata.nextLink, filters with $filter, throttles with 429 and Retry-After", async () => {
    const t = ((await (await token()).json()) as { access_token: string }).access_token;
    const get = (url: string) => fetch(url, { headers: { authorization: `Bearer ${t}` } });
    const serials: string[] = [];
    let next: string | undefined = `${sim.url}/v1.0/deviceManagement/managedDevices?$select=serialNumber&$top=2`;
    let pages = 0;
    while (next) {
      const page = (await (await get(next)).json()) as { value: { serialNumber: string }[]; "@odata.nextLink"?: string };
      serials.push(...page.value.map((d) => d.serialNumber));
      next = page["@odata.nextLink"];
      pages++;
    }
    expect(pages).toBe(3);
    expect(serials).toEqual(["C02INT000", "C02INT001", "C02INT002", "C02INT003", "C02INT004"]);
    const filtered = await (
      await get(`${sim.url}/v1.0/deviceManagement/managedDevices?$filter=${encodeURIComponent("complianceState eq 'noncompliant'")}`)
    ).json();
    expect(filtered).toMatchObject({ value: [{ serialNumber: "C02INT004" }] });
    // An empty $filter lists everything, as Graph does.
    expect(((await (await get(`${sim.url}/v1.0/deviceManagement/managedDevices?$filter=`)).json()) as { value: unknown[] }).value).toHaveLength(5);
    const throttled = await get(`${sim.url}/v1.0/deviceManagement/managedDevices`);
    expect(throttled.status).toBe(429);
    expect(Number(throttled.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(parseFilter("serialNumber eq 'O''Brien' and isSupervised eq true")).toEqual([
      { field: "serialNumber", op: "eq", value: "O'Brien" },
      { field: "isSupervised", op: "eq", value: true },
    ]);
    expect(() => parseFilter("serialNumber eq 'a' or serialNumber eq 'b'")).toThrow("Invalid filter clause");
  });
});
