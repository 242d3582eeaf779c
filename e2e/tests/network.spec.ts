import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { parseMobileconfig } from "@attested/device-sim";
import { ADMIN } from "../fixtures/env";
import { addAcmePlatform } from "../fixtures/guide";
import { shot, signIn } from "../fixtures/portal";

// Network payloads on the Device Management Platform page: refused input names its field, the
// profile preview lists what the device installs, and the downloaded profile's Wi-Fi and VPN payloads
// use its ACME payload (checked by the device simulator).
test("an admin adds Wi-Fi and VPN payloads that use the ACME certificate", async ({ page }) => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "radius-ca-"));
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      path.join(dir, "k"),
      "-out",
      path.join(dir, "ca.pem"),
      "-subj",
      "/CN=Corp RADIUS CA",
      "-days",
      "2",
    ],
    { stdio: "ignore" },
  );
  const radiusCa = readFileSync(path.join(dir, "ca.pem"), "utf8");

  await signIn(page, ADMIN.email, ADMIN.password);
  const { url } = await addAcmePlatform(page, "Network Platform");
  await page.goto(url);
  const form = page.getByRole("form", { name: "Network payloads" });
  await form.getByLabel("Add a Wi-Fi payload").check();
  await form.getByLabel("SSID").fill("Corp-Wi-Fi-with-a-name-that-is-too-long");
  await form.getByLabel("Security").selectOption({ label: "WPA2 or WPA3 Enterprise" });
  await form.getByLabel("Trusted server names").fill("radius.corp.example");
  await form.getByLabel("RADIUS server CA certificate (PEM)").fill(radiusCa);
  await form.getByLabel("Add an IKEv2 VPN payload").check();
  await form.getByLabel("Connection name").fill("Office");
  await form.getByLabel("Server", { exact: true }).fill("vpn.corp.example");
  await form.getByRole("button", { name: "Save network payloads" }).click();
  await expect(form.getByText("SSID must be at most 32 bytes (this one is 39)")).toBeVisible();
  await expect(form.getByText("Remote identifier is required")).toBeVisible();
  await expect(page.getByRole("table", { name: "Profile contents" })).not.toContainText("com.apple.wifi.managed");

  await form.getByLabel("SSID").fill("Corp");
  await form.getByLabel("Remote identifier").fill("vpn.corp.example");
  await form.getByRole("button", { name: "Save network payloads" }).click();
  await expect(page.getByText("Network payloads saved (Wi-Fi Corp, VPN Office).")).toBeVisible();
  const preview = page.getByRole("table", { name: "Profile contents" });
  await expect(preview).toContainText(
    'Wi-Fi "Corp", WPA2/WPA3 Enterprise, joins automatically; EAP-TLS with the ACME certificate; trusts a server named radius.corp.example',
  );
  await expect(preview).toContainText("Corp RADIUS CA");
  await expect(preview).toContainText("IKEv2 VPN to vpn.corp.example");
  await shot(page, "network-payloads");

  const profile = await (await page.request.get(`${new URL(url).pathname}/profile`)).text();
  const parsed = parseMobileconfig(profile);
  expect(parsed.network.map((n) => n.payloadType)).toEqual(["com.apple.wifi.managed", "com.apple.vpn.managed"]);
  for (const n of parsed.network) expect(n.identity.PayloadUUID).toBe(parsed.acme[0]!.PayloadUUID);
  expect(parsed.network[0]!.eap!.anchors.map((a) => a.displayName)).toEqual(["Corp RADIUS CA"]);
});
