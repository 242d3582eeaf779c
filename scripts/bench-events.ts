// `npm run bench:events -- [--events 1000000] [--certificates 200000] [--runs 7] [--keep]`
//
// General Events and certificate search at scale: loads the events and certificates into a fresh
// PostgreSQL database (on the server of DATABASE_URL, dropped afterwards unless --keep), then times
// the app's own queries: General Events' first page, filtered searches, a certificate search by
// serial, and a CSV export of 100,000 rows. Each query is run once to warm up, then --runs times;
// the median and the slowest are printed. Targets: first page and filtered search < 200 ms,
// serial search < 50 ms.
import "reflect-metadata";
import os from "node:os";
import pg from "pg";
import { databaseKeyStore, searchCertificates } from "@attested/ca";
import { openDatabase } from "@attested/db";
import { applyMigrations } from "@attested/db/migrate";
import { createPostgresDatabase } from "@attested/db/testing";
import { listEvents, type EventsQuery } from "@attested/events";
import { exportEventsCsv } from "@attested/lifecycle";

function flags(argv: string[], defaults: Record<string, string>) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith("--")) continue;
    const k = argv[i].slice(2);
    out[k] = argv[i + 1] && !argv[i + 1].startsWith("--") ? argv[++i] : "true";
  }
  return out;
}

const f = flags(process.argv.slice(2), { events: "1000000", certificates: "200000", runs: "7", export: "100000" });
const EVENTS = Number(f.events);
const CERTS = Number(f.certificates);
const RUNS = Number(f.runs);
const EXPORT_ROWS = Number(f.export);
const base = process.env.DATABASE_URL;
if (!base) {
  console.error("bench:events needs a PostgreSQL server: set DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/postgres)");
  process.exit(2);
}

const fresh = await createPostgresDatabase(base, "bench_events");
const url = new URL(fresh.url);
const name = url.pathname.slice(1);
const db = await openDatabase({ url: url.toString(), poolSize: 4 });
const client = new pg.Client({ connectionString: url.toString() });
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

try {
  await applyMigrations(db.adapter);
  await client.connect();
  console.log(
    `database ${name} on ${url.host}; ${os.cpus().length} cores, load ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")}`,
  );

  // ------------------------------------------------------------------ load
  let t0 = process.hrtime.bigint();
  await client.query(`INSERT INTO "Organization" (id, name) VALUES ('00000000-0000-4000-8000-000000000001', 'Bench Corp')`);
  await client.query(`INSERT INTO "CaKey" (id, algorithm, "sealedKey", "wrappedDek") VALUES ('bench-key', 'EC-P256', '\\x00', '\\x00')`);
  await client.query(`
    INSERT INTO "CertificateAuthority" (id, purpose, type, "generatedVia", "commonName", "keyAlgorithm", "signatureAlgorithm", "validityYears",
      "keyId", "certificatePem", "subjectDn", "serialNumber", "notBefore", "notAfter", "sha256Fingerprint", "updatedAt")
    VALUES ('00000000-0000-4000-8000-0000000000ca', 'Device and User Authentication', 'INTERMEDIATE', 'internal', 'Bench ACME CA', 'EC-P256', 'SHA-256', 5,
      'bench-key', 'x', 'CN=Bench ACME CA', '01', now() - interval '1 year', now() + interval '4 years', 'x', now())`);
  // Certificates: one per device, issued over the last year; serials are 16 random-looking bytes.
  await client.query(
    `
    INSERT INTO "Certificate" (id, "serialNumber", "caId", "subjectDn", sans, "emailAddress", "deviceSerial", pem, "sha256Fingerprint",
      "notBefore", "notAfter", "issuedAt", status)
    SELECT md5('id' || i)::uuid::text, md5('serial' || i), '00000000-0000-4000-8000-0000000000ca',
      'CN=C02' || lpad(i::text, 9, '0') || ',O=Bench Corp',
      jsonb_build_array(jsonb_build_object('type', 'rfc822', 'value', 'user' || i || '@example.com')),
      'user' || i || '@example.com', 'C02' || lpad(i::text, 9, '0'), 'x', md5('fp' || i),
      now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval + interval '1 year', now() - (i || ' minutes')::interval,
      (CASE WHEN i % 50 = 0 THEN 'REVOKED' ELSE 'ACTIVE' END)::"CertificateStatus"
    FROM generate_series(1, $1::int) AS i`,
    [CERTS],
  );
  const certSeconds = ms(t0) / 1000;
  t0 = process.hrtime.bigint();
  // Events, oldest first (ids grow with time), over the last year, in chunks to bound memory.
  const CHUNK = 250_000;
  for (let start = 1; start <= EVENTS; start += CHUNK) {
    await client.query(
      `
      INSERT INTO "Event" (time, type, outcome, "actorType", "actorName", "objectType", "objectId", "objectName", "certificateSerial", "deviceSerial", summary, details)
      SELECT now() - ((($2::int - i)::float / $2::int) * interval '365 days'),
        (ARRAY['Certificate Issued','CRL Published','Sign In','Enrollment Denied','Attestation Verified','Certificate Revoked','Mail Sent','Device Lookup Failed'])[1 + (i::bigint * 40503) % 65521 % 8],
        CASE WHEN (i::bigint * 2654435761) % 1000003 % 100 < 90 THEN 'success' WHEN (i::bigint * 2654435761) % 1000003 % 100 < 97 THEN 'failure' ELSE 'denied' END,
        CASE WHEN i % 5 = 0 THEN 'user' WHEN i % 5 IN (1, 2) THEN 'device' ELSE 'system' END,
        CASE WHEN i % 5 = 0 THEN 'admin' || ((i / 5) % 40) || '@example.com' WHEN i % 5 IN (1, 2) THEN 'C02' || lpad((i % $3::int + 1)::text, 9, '0')
             ELSE (ARRAY['crl','mail','revoke-on-failure','unused-certificates'])[1 + i % 4] END,
        CASE WHEN i % 3 = 0 THEN 'certificate-authority' ELSE 'certificate' END,
        CASE WHEN i % 3 = 0 THEN '00000000-0000-4000-8000-0000000000ca' ELSE md5('id' || (i % $3::int + 1))::uuid::text END,
        CASE WHEN i % 3 = 0 THEN 'Bench ACME CA' ELSE 'CN=C02' || lpad((i % $3::int + 1)::text, 9, '0') || ',O=Bench Corp' END,
        CASE WHEN i % 3 = 0 THEN NULL ELSE md5('serial' || (i % $3::int + 1)) END,
        CASE WHEN i % 5 IN (1, 2) THEN 'C02' || lpad((i % $3::int + 1)::text, 9, '0') ELSE NULL END,
        'Benchmark event number ' || i,
        jsonb_build_object('i', i, 'note', 'generated')
      FROM generate_series($1::int, least($1::int + ${CHUNK - 1}, $2::int)) AS i`,
      [start, EVENTS, CERTS],
    );
  }
  await client.query(`ANALYZE`);
  console.log(
    `loaded ${CERTS.toLocaleString("en")} certificates in ${certSeconds.toFixed(1)} s and ${EVENTS.toLocaleString("en")} events in ${(ms(t0) / 1000).toFixed(1)} s`,
  );

  // ------------------------------------------------------------------ measure
  const prisma = db.prisma;
  const ctx = { db: prisma, keyStore: databaseKeyStore(prisma), publicUrl: "http://bench.invalid" };
  const results: { what: string; median: number; max: number; target?: number; rows: number }[] = [];
  async function time(what: string, fn: () => Promise<number>, target?: number) {
    const rows = await fn(); // warm-up
    const samples: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t = process.hrtime.bigint();
      await fn();
      samples.push(ms(t));
    }
    samples.sort((a, b) => a - b);
    results.push({ what, median: samples[Math.floor(samples.length / 2)], max: samples.at(-1)!, target, rows });
  }
  const events = (q: EventsQuery) => async () => (await listEvents(prisma, { limit: 50, ...q })).events.length;
  const someSerial =
    (await client.query(`SELECT "serialNumber" FROM "Certificate" WHERE "deviceSerial" = 'C02000123456'`)).rows[0]?.serialNumber ??
    (await client.query(`SELECT "serialNumber" FROM "Certificate" ORDER BY id LIMIT 1 OFFSET 777`)).rows[0].serialNumber;
  const page1 = await listEvents(prisma, { limit: 50 });
  const weekAgo = new Date(Date.now() - 7 * 86_400_000);

  await time("General Events: first page (50, newest first)", events({}), 200);
  await time("General Events: second page (keyset cursor)", events({ cursor: page1.nextCursor! }), 200);
  await time("filtered: outcome = failure", events({ outcome: "failure" }), 200);
  await time("filtered: actor = admin7@example.com", events({ actor: "admin7@example.com" }), 200);
  await time("filtered: outcome = denied + type + actor", events({ outcome: "denied", type: "Sign In", actor: "admin20@example.com" }), 200);
  await time("filtered: actor type = user + outcome = failure", events({ actorType: "user", outcome: "failure" }), 200);
  await time("filtered: object type = certificate-authority + failure", events({ objectType: "certificate-authority", outcome: "failure" }), 200);
  await time("filtered: object = one certificate (id)", events({ object: (await client.query(`SELECT md5('id' || 4242)::uuid::text AS id`)).rows[0].id }), 200);
  await time("filtered: device serial (device timeline)", events({ deviceSerial: "C02000004242" }), 200);
  await time("filtered: last 7 days + failure", events({ from: weekAgo, outcome: "failure" }), 200);
  await time("filtered: free text = certificate serial", events({ q: someSerial }), 200);
  await time("filtered: rare type, none in range (worst case)", events({ type: "Job Failed" }), 200);
  await time("Certificates: search by serial", async () => (await searchCertificates(ctx, { q: someSerial })).certificates.length, 50);
  await time("Certificates: first page", async () => (await searchCertificates(ctx, {})).certificates.length, 200);

  // CSV export: streamed to the end, as the browser would download it.
  const exportOnce = async () => {
    const stream = await exportEventsCsv(prisma, { type: "system", name: "bench" }, { outcome: "success" }, { maxRows: EXPORT_ROWS });
    let bytes = 0;
    let lines = 0;
    for await (const chunk of stream as unknown as AsyncIterable<Uint8Array>) {
      bytes += chunk.length;
      for (const b of chunk) if (b === 10) lines++;
    }
    return { bytes, rows: lines - 1 };
  };
  await exportOnce();
  const te = process.hrtime.bigint();
  const exp = await exportOnce();
  const exportMs = ms(te);

  const pad = (s: string, n: number) => s.padEnd(n);
  console.log(`\n${pad("query", 58)} ${"median".padStart(9)} ${"max".padStart(9)}  rows  target`);
  let failed = 0;
  for (const r of results) {
    const ok = r.target === undefined || r.median < r.target;
    if (!ok) failed++;
    console.log(
      `${pad(r.what, 58)} ${r.median.toFixed(1).padStart(6)} ms ${r.max.toFixed(1).padStart(6)} ms ${String(r.rows).padStart(5)}  ${r.target ? `< ${r.target} ms ${ok ? "ok" : "MISSED"}` : ""}`,
    );
  }
  console.log(
    `${pad(`CSV export of ${exp.rows.toLocaleString("en")} rows (${(exp.bytes / 1e6).toFixed(1)} MB, streamed)`, 58)} ${exportMs.toFixed(0).padStart(6)} ms  (${Math.round(exp.rows / (exportMs / 1000)).toLocaleString("en")} rows/s)`,
  );
  if (failed) process.exitCode = 1;
} finally {
  await client.end().catch(() => {});
  await db.close();
  if (f.keep !== "true") await fresh.drop();
  else console.log(`kept database ${name}`);
}
