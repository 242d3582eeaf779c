// `npm run demo`: the portal and the Kandji simulator on the embedded database, ready for the guide,
// plus a simulated Apple attestation CA for enrolling simulated devices.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import "reflect-metadata";
import { SimulatedAppleCa } from "@attested/device-sim";
import { startKandjiSimulator } from "@attested/kandji-sim";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = process.env.DATA_DIR ?? path.join(root, "data");
const port = Number(process.env.PORT ?? 3000);
const kandjiPort = Number(process.env.KANDJI_SIM_PORT ?? 4010);
const kandjiToken = process.env.KANDJI_SIM_TOKEN ?? "demo-kandji-token";
const caDir = path.join(dataDir, "demo-apple-ca");

/** A port taken by something else ends the demo with one line naming it and the setting that moves it (no stack trace). */
function portTaken(p: number, setting: string): never {
  console.error(`Port ${p} (${setting}) is already in use. Stop what uses it, or choose another port: ${setting}=${p + 1} npm run demo`);
  process.exit(1);
}
const isFree = (p: number) =>
  new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once("error", () => resolve(false));
    probe.listen(p, () => probe.close(() => resolve(true)));
  });
for (const [p, setting] of [
  [port, "PORT"],
  [kandjiPort, "KANDJI_SIM_PORT"],
] as const)
  if (!(await isFree(p))) portTaken(p, setting);

const kandji = await startKandjiSimulator({ port: kandjiPort, token: kandjiToken, seed: path.join(root, "apps/kandji-sim/seed.example.json") }).catch(
  (e: NodeJS.ErrnoException) => (e.code === "EADDRINUSE" ? portTaken(kandjiPort, "KANDJI_SIM_PORT") : Promise.reject(e)),
);
if (!existsSync(path.join(caDir, "root.pem"))) await (await SimulatedAppleCa.create()).save(caDir);

const portal = spawn(process.execPath, ["--import", "tsx", path.join(root, "apps/portal/server/main.ts")], {
  cwd: root,
  stdio: "inherit",
  // The simulator speaks plain http on loopback; real Kandji tenants are https only.
  env: { ...process.env, NODE_ENV: "production", INTEGRATIONS_ALLOW_HTTP: "1", ATTESTATION_TEST_ROOTS: "1", PORT: String(port) },
});

async function whenReady(url: string) {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 500));
  }
}

// A given ADMIN_PASSWORD is never printed: the banner says where the password comes from.
const signInHint = process.env.ADMIN_PASSWORD
  ? `(sign in as ${process.env.ADMIN_EMAIL ?? "admin@example.com"} with your ADMIN_PASSWORD)`
  : "(the first start prints the admin password above)";

void whenReady(`http://127.0.0.1:${port}`).then(() => {
  const url = process.env.PUBLIC_URL ?? `http://localhost:${port}`;
  console.log(`
  ── Demo ready ─────────────────────────────────────────────────────────────
  Portal:            ${url}   ${signInHint}
  Kandji simulator:  ${kandji.url}/api/v1/devices   Bearer token: ${kandjiToken}
                     devices: TMWFWWWP67 (Ada's MacBook Pro, ada@example.com), GG7FF8QSQ1GH (iPad)

  Follow the guide (README "Walkthrough"). Where it says:
   • Generic HTTP URI:   ${kandji.url}/api/v1/devices?serial_number=\${identity}
   • Bearer Token:       ${kandjiToken}
   • Key Attestation Platform: paste ${path.join(caDir, "root.pem")}
     into "Additional trusted roots (FOR TESTING ONLY)" so simulated devices can attest.

  Then enroll a simulated device with the downloaded profile:
   npm run device -- enroll --profile ~/Downloads/<platform>.mobileconfig --ca ${caDir} \\
     --serial TMWFWWWP67 --udid 00006030-000651690A84001C --email ada@example.com --out ${path.join(dataDir, "device-TMWFWWWP67")}
  ──────────────────────────────────────────────────────────────────────────
`);
});

const stop = async () => {
  portal.kill("SIGTERM");
  await kandji.close();
};
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
portal.on("exit", async (code) => {
  await kandji.close().catch(() => {});
  process.exit(code ?? 0);
});
