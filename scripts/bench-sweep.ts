// `npm run bench:sweep -- [--devices 100000] [--removed 100] [--sample 1000] [--per-hour 10000] [--page-size 300]`
//
// Revoke On Failure at fleet scale: per-device lookups against inventory paging. A fresh database
// (on the server of DATABASE_URL, dropped afterwards) gets --devices active certificates, inserted in
// bulk, each tied through an Enrollment Policy to a Kandji Core Platform with Revoke On Failure; the
// Kandji simulator holds the same fleet less --removed devices (they left the MDM).
//   per-device: the sweep as it runs without a List URI, on the first --sample devices (a 100,000
//               lookup pass takes 10 hours at Kandji's 10,000 requests an hour, so its totals are
//               extrapolated from the sample, and say so);
//   inventory:  one whole pass as it runs with a List URI, for real: every page, drawn from a budget
//               of --per-hour requests an hour (default: Kandji's whole limit) in real time.
// Targets: the inventory pass needs at most 1 % of the per-device requests and finishes in under
// 10 minutes of wall time, within the budget (the simulator enforces Kandji's limit as well).
import "reflect-metadata";
import os from "node:os";
import { randomUUID } from "node:crypto";
import { sealCorePlatformSecret } from "@attested/integrations";
import { startKandjiSimulator } from "@attested/kandji-sim";
import { checkDevicesAgainstSignalSources, KANDJI_REQUESTS_PER_HOUR, lookupsPerMinute } from "@attested/lifecycle";
import { harness } from "@attested/lifecycle/testing";

function flags(argv: string[], defaults: Record<string, string>) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i]!.startsWith("--")) continue;
    const k = argv[i]!.slice(2);
    out[k] = argv[i + 1] && !argv[i + 1]!.startsWith("--") ? argv[++i]! : "true";
  }
  return out;
}

const f = flags(process.argv.slice(2), { devices: "100000", removed: "100", sample: "1000", "per-hour": String(KANDJI_REQUESTS_PER_HOUR), "page-size": "300" });
const DEVICES = Number(f.devices);
const REMOVED = Number(f.removed);
const SAMPLE = Math.min(Number(f.sample), DEVICES);
const PER_HOUR = Number(f["per-hour"]);
const PAGE_SIZE = Number(f["page-size"]);
if (!process.env.DATABASE_URL) {
  console.error("bench:sweep needs a PostgreSQL server: set DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)");
  process.exit(2);
}

const TOKEN = "bench-kandji-token";
const serial = (i: number) => `C02${String(i).padStart(9, "0")}`;
// Devices that left the MDM, spread over the fleet.
const step = Math.max(1, Math.floor(DEVICES / Math.max(1, REMOVED)));
const removed = new Set(Array.from({ length: REMOVED }, (_, k) => serial((k + 1) * step)));
const fmt = (n: number) => n.toLocaleString("en");
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

const h = await harness();
const sim = await startKandjiSimulator({ token: TOKEN });
try {
  console.log(
    `${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );
  let t0 = Date.now();
  for (let i = 1; i <= DEVICES; i++) if (!removed.has(serial(i))) sim.state.addDevice({ serial_number: serial(i) });
  const simSeconds = Date.now() - t0;

  // The guide's chain: Core Platform <- Policy Workflow <- Enrollment Policy; a Revoke On Failure source.
  const ca = await h.makeCa({});
  const core = await h.db.prisma.corePlatform.create({
    data: {
      name: "Kandji",
      authMethod: "bearer",
      uri: `${sim.url}/api/v1/devices?serial_number=\${identity}`,
      validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
      timeoutMs: 10_000,
    },
  });
  await h.db.prisma.corePlatform.update({ where: { id: core.id }, data: { secret: sealCorePlatformSecret(TOKEN, core.id, h.masterKey) } });
  const workflow = await h.db.prisma.policyWorkflow.create({ data: { name: "Kandji devices", corePlatformId: core.id } });
  const policy = await h.db.prisma.enrollmentPolicy.create({ data: { name: "Kandji", policyWorkflowId: workflow.id, caId: ca.id, templateId: h.templateId } });
  await h.db.prisma.securitySignalSource.create({
    data: { name: "Kandji lookup", lookupPurpose: "certificate-issuance", corePlatformId: core.id, revokeOnFailure: true },
  });

  // Certificates in bulk (not through ACME): one per device, all active.
  t0 = Date.now();
  await h.db.prisma.$executeRawUnsafe(
    `INSERT INTO "Certificate" (id, "serialNumber", "caId", "templateId", "enrollmentPolicyId", "subjectDn", "deviceSerial", pem, "sha256Fingerprint",
       "notBefore", "notAfter", "issuedAt", status)
     SELECT md5($4 || i)::uuid::text, md5($4 || 'serial' || i), $1, $2, $3, 'CN=C02' || lpad(i::text, 9, '0'), 'C02' || lpad(i::text, 9, '0'),
       'x', md5($4 || 'fp' || i), now() - interval '1 day', now() + interval '1 year', now() - interval '1 day', 'ACTIVE'
     FROM generate_series(1, $5::int) AS i`,
    ca.id,
    h.templateId,
    policy.id,
    randomUUID(),
    DEVICES,
  );
  await h.db.prisma.$executeRawUnsafe(`ANALYZE "Certificate"`);
  console.log(
    `seeded ${fmt(DEVICES)} active certificates in ${secs(Date.now() - t0)}; simulator fleet ${fmt(DEVICES - REMOVED)} devices in ${secs(simSeconds)}`,
  );

  const ctx = { ...h.ctx, now: () => new Date(), lookupHttp: { retries: 1 } };
  let counted = 0;
  const originalPush = sim.state.requests.push.bind(sim.state.requests);
  // The simulator keeps the last 200 requests; count every one.
  sim.state.requests.push = (...items) => {
    counted += items.length;
    return originalPush(...items);
  };

  // ------------------------------------------------------------------ per-device (sample)
  counted = 0;
  t0 = Date.now();
  // The sample takes SAMPLE devices in one run: a budget of that many lookups (and a retry's reserve).
  const perDevice = await checkDevicesAgainstSignalSources(ctx, { perMinute: SAMPLE + 1 });
  const perDeviceMs = Date.now() - t0;
  const perDeviceRequests = counted;
  const sampleRevoked = perDevice.failed.reduce((n, d) => n + d.revoked.length, 0);
  // Both methods judge the same fleet: the sample's revocations are undone.
  await h.db.prisma.certificate.updateMany({ where: { status: "REVOKED" }, data: { status: "ACTIVE", revokedAt: null, revocationReason: null } });
  const perDeviceTotal = Math.round((perDeviceRequests / Math.max(1, perDevice.checked)) * DEVICES);
  const perDeviceHours = perDeviceTotal / PER_HOUR;

  // ------------------------------------------------------------------ inventory (whole pass)
  await h.db.prisma.corePlatform.update({
    where: { id: core.id },
    data: {
      listUri: `${sim.url}/api/v1/devices`,
      listPaging: "offset-limit",
      listItemsPath: "data",
      listSerialPath: "data.serial_number",
      listPageSize: PAGE_SIZE,
    },
  });
  // The sample's requests are not the pass's: it starts with this minute's budget untouched.
  await h.db.prisma.lookupBudget.deleteMany({});
  counted = 0;
  t0 = Date.now();
  const inv = await checkDevicesAgainstSignalSources(ctx, { perMinute: lookupsPerMinute(PER_HOUR), maxPassMinutes: 30 });
  const invMs = Date.now() - t0;
  const pass = inv.inventory[0];
  if (!pass) throw new Error("the inventory pass did not run");
  const throttled = sim.state.requests.filter((r) => r.status === 429).length;

  const ratio = (pass.requests / perDeviceTotal) * 100;
  console.log("");
  console.log(`Revoke On Failure over ${fmt(DEVICES)} active certificates; ${fmt(REMOVED)} devices left the MDM; budget ${fmt(PER_HOUR)} requests/hour`);
  console.log(
    `  per-device lookups: ${fmt(perDeviceTotal)} requests per pass (measured ${fmt(perDeviceRequests)} for ${fmt(perDevice.checked)} devices in ${secs(perDeviceMs)}), ` +
      `pass duration ${perDeviceHours.toFixed(1)} h at the budget, revocations found ${fmt(sampleRevoked)} in the sample (~${fmt(Math.round((sampleRevoked / Math.max(1, perDevice.checked)) * DEVICES))} extrapolated)`,
  );
  console.log(
    `  inventory paging:   ${fmt(pass.requests)} requests per pass (${fmt(pass.pages)} pages of ${PAGE_SIZE}), pass duration ${secs(invMs)} wall (reading ${secs(pass.listMs)}), ` +
      `devices listed ${fmt(pass.devicesListed)}, missing ${fmt(pass.devicesMissing)}, revocations found ${fmt(pass.revoked)}; 429 answers ${throttled}`,
  );
  const okRatio = ratio <= 1;
  const okTime = invMs < 10 * 60_000;
  const okComplete = pass.outcome === "complete" && pass.revoked === REMOVED;
  console.log(`  inventory/per-device requests: ${ratio.toFixed(2)} % (target <= 1 %) ${okRatio ? "OK" : "FAIL"}`);
  console.log(`  inventory pass wall time: ${secs(invMs)} (target < 600 s) ${okTime ? "OK" : "FAIL"}`);
  console.log(`  every departed device revoked in one pass: ${okComplete ? "OK" : `FAIL (${pass.outcome}: ${pass.reason})`}`);
  process.exitCode = okRatio && okTime && okComplete ? 0 : 1;
} finally {
  await sim.close();
  await h.close();
}
