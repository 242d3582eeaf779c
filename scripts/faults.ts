// `npm run faults -- [--devices 240] [--concurrency 16]`
//
// Nothing lost under faults. Devices enroll (full Apple flow with the Kandji lookup) at concurrency C
// while PostgreSQL is restarted (down ~2 s) and the Kandji simulator stalls (longer than the lookup
// timeout); some devices are unknown to Kandji (denied), and some orders are finalized twice at once
// and again afterwards. Then, with the faults gone, a last batch must enroll without error (the server
// recovered by itself). Checks, from the database:
//   - every certificate a client received is in the database, with its "Certificate Issued" event;
//   - no order has two certificates, and an order's certificate is the one recorded for it;
//   - every enrollment a client saw denied has its "Enrollment Denied" (or "Attestation Failed") event.
import "reflect-metadata";
import { X509Certificate } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  AcmeClient,
  AcmeClientError,
  buildAttestation,
  buildCsr,
  createDeviceKey,
  generateDevices,
  renderMobileconfig,
  splitPemChain,
  type SimulatedDevice,
} from "@attested/device-sim";
import { parseFlags, sleep } from "./bench/lib";
import { setupBenchEnv, sql } from "./bench/setup";

const flags = parseFlags(process.argv.slice(2), { devices: "240", concurrency: "16" });
const N = Number(flags.devices);
const C = Number(flags.concurrency);

type Outcome =
  | { kind: "issued"; serial: string; certSerial: string; orderUrl: string; finalizes: number }
  | { kind: "denied"; serial: string; type: string; detail: string }
  | { kind: "failed"; serial: string; message: string };

const DENIAL_TYPES = new Set(["unauthorized", "badCSR", "badAttestationStatement", "rejectedIdentifier"]);

/** One enrollment as enroll() does it, optionally finalizing twice concurrently plus a retry. */
async function enrollOnce(env: Awaited<ReturnType<typeof setupBenchEnv>>, device: SimulatedDevice, doubleFinalize: boolean): Promise<Outcome> {
  const payload = renderMobileconfig(env.profile, device).acme[0]!;
  const client = new AcmeClient({ directoryUrl: payload.DirectoryURL, fetch: env.fetch, pollIntervalMs: 50, pollTimeoutMs: 30_000 });
  try {
    const key = await createDeviceKey({ keyType: payload.KeyType, keySize: payload.KeySize, hardwareBound: payload.HardwareBound });
    await client.createAccount();
    const { url: orderUrl, order } = await client.newOrder([{ type: "permanent-identifier", value: payload.ClientIdentifier }]);
    for (const authzUrl of order.authorizations) {
      const authz = await client.getAuthorization(authzUrl);
      const ch = authz.challenges.find((c) => c.type === "device-attest-01")!;
      const attObj = await buildAttestation({ device, publicKey: key.keys.publicKey, token: ch.token!, ca: env.simCa });
      await client.answerDeviceAttest(ch.url, attObj);
      await client.waitForAuthorization(authzUrl);
    }
    await client.waitForOrder(orderUrl, ["ready", "valid"]);
    const csr = await buildCsr(payload, key);
    let finalizes = 1;
    if (doubleFinalize) {
      // Two finalizes at once (a second client instance with the same account key would do the same).
      const other = new AcmeClient({
        directoryUrl: payload.DirectoryURL,
        fetch: env.fetch,
        accountKey: (client as unknown as { accountKey: CryptoKeyPair }).accountKey,
      });
      other.accountUrl = client.accountUrl;
      const r = await Promise.allSettled([client.finalize(order.finalize, csr), other.finalize(order.finalize, csr)]);
      finalizes = 2;
      const denied = r.find((x) => x.status === "rejected" && x.reason instanceof AcmeClientError && DENIAL_TYPES.has(x.reason.acmeType ?? ""));
      if (denied) throw (denied as PromiseRejectedResult).reason;
    } else {
      await client.finalize(order.finalize, csr);
    }
    let done = await client.waitForOrder(orderUrl, ["valid", "ready"]);
    if (done.status === "ready") {
      // The issuance the other finalize started was cut by the outage and the order given back: finalize again.
      await client.finalize(order.finalize, csr);
      finalizes++;
      done = await client.waitForOrder(orderUrl, ["valid"]);
    }
    if (doubleFinalize) {
      // And a retried finalize after issuance: must return the same order, not a new certificate.
      await client.finalize(order.finalize, csr).catch(() => {});
      finalizes++;
    }
    const chain = await client.downloadCertificate(done.certificate!);
    const certSerial = new X509Certificate(splitPemChain(chain)[0]!).serialNumber.toLowerCase().replace(/^0+/, "");
    return { kind: "issued", serial: device.serialNumber, certSerial, orderUrl, finalizes };
  } catch (e) {
    if (e instanceof AcmeClientError && DENIAL_TYPES.has(e.acmeType ?? ""))
      return { kind: "denied", serial: device.serialNumber, type: e.acmeType!, detail: e.problem?.detail ?? e.message };
    return { kind: "failed", serial: device.serialNumber, message: (e as Error).message.slice(0, 160) };
  }
}

async function fleet(env: Awaited<ReturnType<typeof setupBenchEnv>>, devices: SimulatedDevice[], concurrency: number, out: Outcome[]) {
  let next = 0;
  const worker = async () => {
    while (next < devices.length) {
      const i = next++;
      // A device whose enrollment failed for infrastructure reasons tries again a little later, as the
      // MDM's ACME payload does; a denial is final.
      for (let attempt = 0; attempt < 40; attempt++) {
        const o = await enrollOnce(env, devices[i]!, i % 10 === 3);
        out.push(o);
        if (o.kind !== "failed") break;
        await sleep(250);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

// Known devices (seeded in Kandji) and ghosts (not in Kandji: the policy denies them).
const env = await setupBenchEnv({ workers: Number(flags.workers ?? 1), devices: N + 40 });
const known = env.devices;
const ghosts = generateDevices(Math.ceil(N / 20), "GHOST");
const main = [...known.slice(0, N)];
ghosts.forEach((g, i) => {
  main.splice(Math.floor(((i + 0.5) * main.length) / ghosts.length), 0, g);
});
const after = known.slice(N, N + 40);
const faults: string[] = [];
try {
  console.log(`flow: ${env.policyNote}`);
  const outcomes: Outcome[] = [];
  const t0 = performance.now();
  const stamp = () => `${((performance.now() - t0) / 1000).toFixed(1)} s`;
  const run = fleet(env, main, C, outcomes);
  const chaos = (async () => {
    await sleep(3000);
    faults.push(`${stamp()} PostgreSQL restart (fast shutdown, down 2 s)`);
    await env.pg.restart(2000);
    faults.push(`${stamp()} PostgreSQL back`);
    await sleep(4000);
    faults.push(`${stamp()} Kandji simulator stalls (lookup timeout is 5 s)`);
    env.kandji.state.setFaults({ stall: true });
    await sleep(7000);
    env.kandji.state.clearFaults();
    faults.push(`${stamp()} Kandji simulator answers again`);
  })();
  await Promise.all([run, chaos]);
  const tMain = stamp();
  // Recovery: with every fault gone, enrollments must just work again.
  const recovery: Outcome[] = [];
  await fleet(env, after, 8, recovery);

  const all = [...outcomes, ...recovery];
  const issued = all.filter((o): o is Extract<Outcome, { kind: "issued" }> => o.kind === "issued");
  const denied = all.filter((o): o is Extract<Outcome, { kind: "denied" }> => o.kind === "denied");
  const failed = all.filter((o): o is Extract<Outcome, { kind: "failed" }> => o.kind === "failed");

  const db = await sql(env.databaseUrl);
  const certRows = await db.query<{ serialNumber: string; acmeOrderId: string | null; deviceSerial: string | null }>(
    `SELECT "serialNumber", "acmeOrderId", "deviceSerial" FROM "Certificate"`,
  );
  const issuedEvents = new Set(
    (await db.query<{ certificateSerial: string }>(`SELECT "certificateSerial" FROM "Event" WHERE type = 'Certificate Issued'`)).map(
      (r) => r.certificateSerial,
    ),
  );
  const deniedEvents = await db.query<{ deviceSerial: string; type: string }>(
    `SELECT "deviceSerial", type FROM "Event" WHERE type IN ('Enrollment Denied', 'Attestation Failed')`,
  );
  const dupOrders = await db.query<{ acmeOrderId: string; n: string }>(
    `SELECT "acmeOrderId", count(*) AS n FROM "Certificate" WHERE "acmeOrderId" IS NOT NULL GROUP BY 1 HAVING count(*) > 1`,
  );
  // An outage is not the order's fault: none may end invalid with serverInternal (the order goes back to ready).
  const [{ n: ordersFailedByOutage }] = await db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM "AcmeOrder" WHERE status = 'invalid' AND error->>'type' = 'urn:ietf:params:acme:error:serverInternal'`,
  );
  const mismatched = await db.query<{ id: string }>(
    `SELECT o.id FROM "AcmeOrder" o JOIN "Certificate" c ON c."acmeOrderId" = o.id WHERE o."certificateId" IS NOT NULL AND o."certificateId" <> c.id`,
  );
  await db.close();

  const norm = (s: string) => s.toLowerCase().replace(/^0+/, "");
  const inDb = new Set(certRows.map((r) => norm(r.serialNumber)));
  const lost = issued.filter((o) => !inDb.has(o.certSerial));
  const noEvent = issued.filter((o) => !issuedEvents.has(certRows.find((r) => norm(r.serialNumber) === o.certSerial)?.serialNumber ?? "?"));
  const deniedWithEvent = new Set(deniedEvents.map((e) => e.deviceSerial));
  const deniedNoEvent = denied.filter((d) => !deniedWithEvent.has(d.serial));
  const received = new Set(issued.map((o) => o.certSerial));
  const undelivered = certRows.filter((r) => !received.has(norm(r.serialNumber))).length;
  const doubles = issued.filter((o) => o.finalizes > 1).length;
  const recovered = recovery.every((o) => o.kind === "issued");
  // While PostgreSQL restarts every answer is 503 with Retry-After; a 500 is a failure the server did not recognise.
  const internalErrors = failed.filter((f) => /\(HTTP 500\)/.test(f.message)).length;
  const failures: Record<string, number> = {};
  for (const f of failed) failures[f.message] = (failures[f.message] ?? 0) + 1;
  const denials: Record<string, number> = {};
  for (const d of denied) {
    const k = `${d.type}: ${d.detail.replace(/looking up \S+/, "looking up <serial>").slice(0, 110)}`;
    denials[k] = (denials[k] ?? 0) + 1;
  }

  console.log("");
  for (const f of faults) console.log(`fault        ${f}`);
  console.log(
    `run          ${main.length} enrollments at concurrency ${C} (${ghosts.length} devices unknown to Kandji; every 10th finalized twice at once, then again) in ${tMain}`,
  );
  console.log(`outcomes     ${issued.length} certificates received, ${denied.length} denied, ${failed.length} attempts failed (infrastructure; retried)`);
  const gaveUp = main.filter((d) => !all.some((o) => o.serial === d.serialNumber && o.kind !== "failed")).length;
  console.log(`devices      ${main.length - gaveUp} of ${main.length} reached a final answer (certificate or denial), ${gaveUp} gave up after 40 attempts`);
  for (const [k, v] of Object.entries(denials)) console.log(`  denied     ${v} x ${k}`);
  for (const [k, v] of Object.entries(failures)) console.log(`  failed     ${v} x ${k}`);
  console.log(`recovery     ${recovery.filter((o) => o.kind === "issued").length} of ${recovery.length} enrollments after the faults succeeded`);
  console.log(`database     ${certRows.length} certificates, ${issuedEvents.size} "Certificate Issued" events, ${deniedEvents.length} denial events`);
  console.log(`check        received but not in the database: ${lost.length}`);
  console.log(`check        received without a "Certificate Issued" event: ${noEvent.length}`);
  console.log(
    `check        orders with two certificates: ${dupOrders.length} (of ${doubles} orders finalized more than once); order/certificate mismatches: ${mismatched.length}`,
  );
  console.log(`check        denied without an event: ${deniedNoEvent.length} of ${denied.length}`);
  console.log(
    `check        answers 500 (not recognised as the outage they were): ${internalErrors}; orders made invalid by the outage: ${ordersFailedByOutage}`,
  );
  console.log(`note         certificates recorded but never delivered (client failed after issuance): ${undelivered}`);
  const ok =
    lost.length === 0 &&
    noEvent.length === 0 &&
    dupOrders.length === 0 &&
    mismatched.length === 0 &&
    deniedNoEvent.length === 0 &&
    internalErrors === 0 &&
    ordersFailedByOutage === 0 &&
    recovered;
  console.log(`result       ${ok ? "PASS" : "FAIL"}: nothing lost${recovered ? ", server recovered by itself" : ", server did NOT recover"}`);
  if (!ok) process.exitCode = 1;
} finally {
  await env.close();
}
