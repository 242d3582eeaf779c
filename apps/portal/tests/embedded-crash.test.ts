import { spawnSync } from "node:child_process";
import path from "node:path";
import { X509Certificate } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enroll, generateDevices, type SimulatedAppleCa, type SimulatedDevice } from "@attested/device-sim";
import { openDatabase } from "@attested/db";
import { loadMigrations } from "@attested/db/migrate";
import { adminApiToken, canSignIn, freePort, setUpAcmePlatform, spawnPortal, tempDir } from "./harness";

// The embedded database (PGlite) under `kill -9`: devices enroll while the server is killed at a
// random moment, again and again. After each restart every certificate a device received is recorded,
// with its Certificate Issued event and an OCSP answer; at the end no order is valid without its
// certificate and the server still enrolls. Writes are acknowledged only after they are durable.
describe("the embedded database survives kill -9 during enrollments", () => {
  const dataDir = tempDir("attested-crash-");
  let env: Record<string, string>;
  let url = "";
  let token = "";
  let profile = "";
  let simCa: SimulatedAppleCa;
  let running: ReturnType<typeof spawnPortal> | null = null;
  const received: { device: string; serial: string }[] = [];
  // As the portal writes serial numbers: lowercase hex, no leading zero octets.
  const serialOf = (pem: string) => {
    const hex = new X509Certificate(pem).serialNumber.toLowerCase().replace(/^0+(?=.)/, "");
    return hex.length % 2 ? `0${hex}` : hex;
  };
  /** The certificates a device received since `from` are recorded, each with its Certificate Issued event. */
  async function expectRecorded(from: number, when: string) {
    for (const got of received.slice(from)) {
      const listed = (await api("GET", `/certificates?q=${got.serial}`)).data as { serialNumber: string; deviceSerial: string; status: string }[];
      expect(listed, `${when}: ${got.device}'s certificate ${got.serial}`).toMatchObject([
        { serialNumber: got.serial, deviceSerial: got.device, status: "ACTIVE" },
      ]);
      const events = (await api("GET", `/events?type=${encodeURIComponent("Certificate Issued")}&certificateSerial=${got.serial}`)).data;
      expect(events, `${when}: Certificate Issued for ${got.serial}`).toHaveLength(1);
    }
  }

  async function start() {
    const p = spawnPortal(env);
    const t = Date.now();
    for (;;) {
      if (p.child.exitCode !== null) throw new Error(`portal exited after a crash: ${p.output().slice(-3000)}`);
      try {
        if ((await fetch(`${url}/healthz`)).ok) break;
      } catch {}
      if (Date.now() - t > 90_000) throw new Error(`portal did not come back: ${p.output().slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    running = p;
  }
  async function kill(signal: NodeJS.Signals) {
    const p = running;
    running = null;
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return;
    const exited = new Promise((r) => p.child.once("exit", r));
    p.child.kill(signal);
    await exited;
  }
  const api = async (method: string, p: string, body?: unknown) => {
    const res = await fetch(`${url}/api/v1${p}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return text.startsWith("{") ? JSON.parse(text) : text;
  };

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    env = {
      DATABASE_URL: "",
      DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_URL: url,
      MASTER_KEY: "6b".repeat(32),
      LIFECYCLE_WORKER: "off",
      ADMIN_PASSWORD: "crash-admin-password-77",
      ATTESTATION_TEST_ROOTS: "1",
    };
    token = adminApiToken(env);
    await start();
    const platform = await setUpAcmePlatform(api, { ca: "Crash CA" });
    simCa = platform.simCa;
    profile = await api("GET", `/device-management-platforms/${platform.dmpId}/profile`);
  }, 180_000);
  afterAll(() => kill("SIGTERM"));

  /** Enrolls devices four at a time until `stop`; keeps what each device received. */
  async function enrollUntil(devices: SimulatedDevice[], stop: { now: boolean }) {
    let next = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (!stop.now && next < devices.length) {
          const device = devices[next++]!;
          try {
            const r = await enroll({ profile, device, ca: simCa, pollTimeoutMs: 5_000 });
            received.push({ device: device.serialNumber, serial: serialOf(r.certificatePem) });
          } catch {
            // Killed mid-enrollment: the device got nothing, and retries later as a real one would.
          }
        }
      }),
    );
  }

  it("every certificate a device received is recorded after each restart; no order is left half-done", async () => {
    const devices = generateDevices(400, "CRS");
    let checked = 0;
    for (let round = 0; round < 5; round++) {
      const stop = { now: false };
      const enrolling = enrollUntil(devices.slice(round * 80, round * 80 + 80), stop);
      await new Promise((r) => setTimeout(r, 700 + Math.random() * 2500));
      await kill("SIGKILL");
      stop.now = true;
      await enrolling;
      await start();
      await expectRecorded(checked, `after kill ${round + 1}`);
      checked = received.length;
    }
    await expectRecorded(0, "at the end");
    expect(received.length).toBeGreaterThan(0);

    // Recovered by itself: a device enrolls at once.
    const after = await enroll({ profile, device: generateDevices(1, "CRZ")[0]!, ca: simCa });
    expect(after.certificatePem).toContain("BEGIN CERTIFICATE");

    // From the files themselves, with the server stopped: every valid order has its certificate.
    await kill("SIGTERM");
    const db = await openDatabase({ pgliteDir: path.join(dataDir, "pglite") });
    try {
      const valid = await db.prisma.acmeOrder.findMany({ where: { status: "valid" }, select: { id: true, certificateId: true } });
      expect(valid.length).toBeGreaterThanOrEqual(received.length);
      expect(valid.filter((o) => !o.certificateId)).toEqual([]);
      const certs = await db.prisma.certificate.count({ where: { id: { in: valid.map((o) => o.certificateId!) } } });
      expect(certs).toBe(valid.length);
    } finally {
      await db.close();
    }
  }, 600_000);
});

// `npm start`'s first run killed while it migrates: the next start applies what is left and serves.
// Prisma's engine records a migration started, runs it, then records it finished; a kill between
// those left a "failed migration" and every later start refused (P3009) until this was fixed.
describe("the embedded database survives kill -9 during the first start's migrations", () => {
  const migrations = loadMigrations().migrationDirectories.length;
  // The first migration (the empty database), one in the middle, and the last.
  it.each([1, Math.ceil(migrations / 2), migrations])(
    "killed right after migration %i's SQL ran: the next start serves",
    async (n) => {
      const dataDir = tempDir("attested-crash-migrate-");
      const killed = spawnSync(process.execPath, ["--import", "tsx", path.join(import.meta.dirname, "kill-mid-migration.ts")], {
        env: { ...process.env, PGLITE_DIR: path.join(dataDir, "pglite"), KILL_AFTER_SCRIPT: String(n) },
        encoding: "utf8",
      });
      expect(killed.signal, killed.stderr).toBe("SIGKILL");

      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const p = spawnPortal({
        DATABASE_URL: "",
        DATA_DIR: dataDir,
        PORT: String(port),
        PUBLIC_URL: url,
        LIFECYCLE_WORKER: "off",
        ADMIN_PASSWORD: "crash-admin-password-78",
      });
      try {
        const t = Date.now();
        let ready: unknown;
        while (!ready) {
          if (p.child.exitCode !== null) throw new Error(`portal exited after the kill: ${p.output().slice(-3000)}`);
          try {
            const r = await fetch(`${url}/readyz`);
            if (r.ok) ready = await r.json();
          } catch {}
          if (Date.now() - t > 90_000) throw new Error(`portal not ready: ${p.output().slice(-3000)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        expect(ready).toEqual({ ready: true, database: "reachable" });
        expect(await canSignIn(url, "admin@example.com", "crash-admin-password-78")).toBe(true);
      } finally {
        p.child.kill("SIGTERM");
      }
    },
    180_000,
  );
});
