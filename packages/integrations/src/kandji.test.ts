import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKandjiSimulator, type KandjiSimulator } from "@attested/kandji-sim";
import { assignLibraryItem, createCustomProfile, KandjiApiError, listKandjiBlueprints, updateCustomProfile, type KandjiApi } from "./kandji";

// Publish to Kandji's calls against the Kandji simulator over HTTP, and the simulator's Kandji-shaped refusals.

const TOKEN = "kandji-publish-test-token";
const profile = (url: string) =>
  `<?xml version="1.0"?><plist version="1.0"><dict><key>PayloadIdentifier</key><string>com.example.acme</string><key>DirectoryURL</key><string>${url}</string></dict></plist>`;

let sim: KandjiSimulator;
let api: KandjiApi;
let blueprintId: string;

beforeAll(async () => {
  sim = await startKandjiSimulator({ token: TOKEN, seed: { blueprints: [{ name: "ACME Certificates" }, { name: "Kiosks" }] } });
  api = { baseUrl: sim.url, token: TOKEN, timeoutMs: 5_000 };
  blueprintId = sim.state.listBlueprints().find((b) => b.name === "ACME Certificates")!.id;
});
afterAll(() => sim.close());

describe("Kandji Library custom profiles and Blueprint assignment", () => {
  it("lists Blueprints, creates the profile, updates it in place and assigns it once", async () => {
    expect((await listKandjiBlueprints(api)).map((b) => b.name).sort()).toEqual(["ACME Certificates", "Kiosks"]);
    const created = await createCustomProfile(api, {
      name: "Attested PKI: Kandji",
      profile: profile("https://pki/acme/one/directory"),
      filename: "a.mobileconfig",
      active: true,
    });
    expect(created).toMatchObject({
      name: "Attested PKI: Kandji",
      active: true,
      mdm_identifier: "com.example.acme",
      runs_on_mac: true,
      runs_on_iphone: true,
      runs_on_ipad: true,
    });
    const updated = await updateCustomProfile(api, created.id, {
      name: "Attested PKI: Kandji",
      profile: profile("https://pki/acme/two/directory"),
      filename: "a.mobileconfig",
      active: true,
    });
    expect(updated?.id).toBe(created.id);
    expect(sim.state.getCustomProfile(created.id)?.profile).toContain("/acme/two/directory");
    expect(sim.state.listCustomProfiles()).toHaveLength(1);
    expect(await assignLibraryItem(api, blueprintId, created.id)).toBe("assigned");
    expect(await assignLibraryItem(api, blueprintId, created.id)).toBe("already");
    expect(sim.state.blueprintLibraryItems(blueprintId)).toEqual([created.id]);
    // An item deleted in Kandji's console: update answers null, so the caller creates it again.
    sim.state.deleteCustomProfile(created.id);
    expect(await updateCustomProfile(api, created.id, { name: "x", profile: profile("u"), filename: "a.mobileconfig", active: true })).toBeNull();
  });

  it("answers bad input as Kandji does, and the client quotes it without the token", async () => {
    const post = (form: FormData) =>
      fetch(`${sim.url}/api/v1/library/custom-profiles`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: form });
    const empty = await post(new FormData());
    expect(empty.status).toBe(400);
    expect(await empty.json()).toEqual({ name: ["This field is required."], file: ["No file was submitted."] });
    const bad = new FormData();
    bad.set("name", "x");
    bad.set("file", new Blob(["not a profile"]), "x.mobileconfig");
    bad.set("active", "maybe");
    expect(await (await post(bad)).json()).toEqual({
      file: ["Invalid profile. Please upload a valid .mobileconfig file."],
      active: ["Must be a valid boolean."],
    });

    const nowhere = assignLibraryItem(api, "00000000-0000-0000-0000-000000000000", "x");
    await expect(nowhere).rejects.toThrow(
      "Kandji answered 404 to POST /api/v1/blueprints/00000000-0000-0000-0000-000000000000/assign-library-item: Not found.",
    );
    await expect(assignLibraryItem(api, blueprintId, "no-such-item")).rejects.toThrow("library_item_id: Library item no-such-item not found.");

    const wrong = { ...api, token: "wrong-token-value" };
    const e = await createCustomProfile(wrong, { name: "x", profile: profile("u"), filename: "a.mobileconfig", active: true }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(KandjiApiError);
    expect((e as KandjiApiError).status).toBe(401);
    expect((e as Error).message).toBe("Kandji answered 401 to POST /api/v1/library/custom-profiles: Incorrect authentication credentials.");
    expect((e as Error).message).not.toContain("wrong-token-value");
  });
});
