#!/usr/bin/env -S npx tsx
// Apple device simulator (docs/ARCHITECTURE.md#simulators-tests-and-demos-only).
// Run with: npx tsx apps/device-sim/src/cli.ts <command> ...
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { AcmeClientError } from "./acme-client";
import { CA_FILES, SimulatedAppleCa } from "./apple-ca";
import { FORGERIES, isForgery } from "./attestation";
import { generateDevices, udidForSerial, type SimulatedDevice } from "./device";
import { enroll } from "./enroll";
import { runFleet } from "./fleet";
import { crypto, x509 } from "./x509";

const USAGE = `usage: cli.ts <command> [options]

  init-ca   --out DIR [--force]
            Create a simulated Apple attestation CA (root + "Apple Enterprise Attestation Sub CA 1").
            Prints the root PEM path: add it to a Key Attestation Platform as an explicit TEST root.

  enroll    --profile FILE.mobileconfig --ca DIR --serial S [--udid U] [--name N] [--email E]
            [--full-name F] [--model M] [--forge KIND] --out DIR [--allow-http]
            [--platform macOS|iOS] [--os-version V] [--sep-os-version V] [--llb-version V]
            [--software-update-device-id ID] [--secure-boot LEVEL] [--sip enabled|disabled]
            [--kexts allowed|notAllowed]
            Enroll one device over ACME (device-attest-01). Writes cert.pem and chain.pem (and key.pem
            when the payload is not HardwareBound). Forgeries: ${FORGERIES.join(", ")}.
            The attested facts default to a macOS 15.5 Mac in Full Security, SIP on, no kexts; an iOS
            device's leaf has no Secure Boot, SIP or kext extensions.

  bench     --profile FILE --ca DIR --devices N --concurrency C [--serial-prefix SIM]
            [--devices-file devices.json] [--allow-http] [--poll-ms 250]
            Enroll N generated devices, C at a time; prints ok, failed, seconds, throughput, p50/p95/p99.

  devices   --count N [--serial-prefix SIM]
            Print the devices bench generates (JSON), e.g. to seed the Kandji simulator.
`;

function fail(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function need(values: Record<string, unknown>, key: string): string {
  const v = values[key];
  if (typeof v !== "string" || v === "") fail(`--${key} is required`);
  return v;
}

function positiveInt(s: string, name: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer`);
  return n;
}

async function initCa(args: string[]) {
  const { values } = parseArgs({ args, options: { out: { type: "string" }, force: { type: "boolean" } } });
  const out = need(values, "out");
  if (existsSync(join(out, CA_FILES.root)) && !values.force) fail(`${join(out, CA_FILES.root)} exists (use --force to replace it)`);
  const ca = await SimulatedAppleCa.create();
  const rootPath = await ca.save(out);
  console.log(rootPath);
}

async function enrollOne(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      profile: { type: "string" },
      ca: { type: "string" },
      serial: { type: "string" },
      udid: { type: "string" },
      name: { type: "string" },
      email: { type: "string" },
      "full-name": { type: "string" },
      model: { type: "string" },
      forge: { type: "string" },
      out: { type: "string" },
      "allow-http": { type: "boolean" },
      platform: { type: "string" },
      "os-version": { type: "string" },
      "sep-os-version": { type: "string" },
      "llb-version": { type: "string" },
      "software-update-device-id": { type: "string" },
      "secure-boot": { type: "string" },
      sip: { type: "string" },
      kexts: { type: "string" },
    },
  });
  const serialNumber = need(values, "serial");
  const choice = <T extends string>(name: string, v: string | undefined, allowed: readonly T[]): T | undefined => {
    if (v !== undefined && !allowed.includes(v as T)) fail(`--${name} must be one of ${allowed.join(", ")}`);
    return v as T | undefined;
  };
  const sip = choice("sip", values.sip, ["enabled", "disabled"]);
  const kexts = choice("kexts", values.kexts, ["allowed", "notAllowed"]);
  const forge = values.forge;
  if (forge !== undefined && !isForgery(forge)) fail(`--forge must be one of ${FORGERIES.join(", ")}`);
  const device: SimulatedDevice = {
    serialNumber,
    udid: values.udid ?? udidForSerial(serialNumber),
    deviceName: values.name,
    email: values.email,
    fullName: values["full-name"],
    model: values.model,
    platform: choice("platform", values.platform, ["macOS", "iOS"]),
    osVersion: values["os-version"],
    sepOsVersion: values["sep-os-version"],
    llbVersion: values["llb-version"],
    softwareUpdateDeviceId: values["software-update-device-id"],
    secureBootLevel: values["secure-boot"],
    sipStatus: sip === undefined ? undefined : sip === "enabled" ? 0 : 1,
    thirdPartyKexts: kexts === undefined ? undefined : kexts === "allowed" ? 1 : 0,
  };
  const out = need(values, "out");
  const [profile, ca] = await Promise.all([readFile(need(values, "profile")), SimulatedAppleCa.load(need(values, "ca"))]);
  const result = await enroll({ profile, device, ca, forge, allowHttp: values["allow-http"] });
  await mkdir(out, { recursive: true });
  await writeFile(join(out, "cert.pem"), result.certificatePem);
  await writeFile(join(out, "chain.pem"), result.chainPem);
  if (result.key.keys.privateKey.extractable) {
    const pkcs8 = await crypto.subtle.exportKey("pkcs8", result.key.keys.privateKey);
    await writeFile(join(out, "key.pem"), x509.PemConverter.encode(pkcs8, "PRIVATE KEY"), { mode: 0o600 });
  }
  const cert = new x509.X509Certificate(result.certificatePem);
  console.log(`issued ${cert.subject} (serial ${cert.serialNumber}), valid until ${cert.notAfter.toISOString()}`);
  console.log(`wrote ${join(out, "cert.pem")} and ${join(out, "chain.pem")}`);
  console.log(JSON.stringify(result.timings, (_k, v) => (typeof v === "number" ? Math.round(v) : v)));
}

async function bench(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      profile: { type: "string" },
      ca: { type: "string" },
      devices: { type: "string" },
      concurrency: { type: "string", default: "10" },
      "serial-prefix": { type: "string", default: "SIM" },
      "devices-file": { type: "string" },
      "allow-http": { type: "boolean" },
      "poll-ms": { type: "string" },
    },
  });
  const devices = values["devices-file"]
    ? (JSON.parse(await readFile(values["devices-file"], "utf8")) as SimulatedDevice[])
    : positiveInt(need(values, "devices"), "devices");
  const [profile, ca] = await Promise.all([readFile(need(values, "profile")), SimulatedAppleCa.load(need(values, "ca"))]);
  const r = await runFleet({
    profile,
    devices,
    concurrency: positiveInt(values.concurrency!, "concurrency"),
    ca,
    serialPrefix: values["serial-prefix"],
    allowHttp: values["allow-http"],
    pollIntervalMs: values["poll-ms"] ? positiveInt(values["poll-ms"], "poll-ms") : undefined,
  });
  console.log(`ok          ${r.ok}`);
  console.log(`failed      ${r.failed}`);
  console.log(`seconds     ${r.seconds}`);
  console.log(`throughput  ${r.throughput} enrollments/s`);
  console.log(`p50         ${r.p50} ms`);
  console.log(`p95         ${r.p95} ms`);
  console.log(`p99         ${r.p99} ms`);
  for (const [reason, n] of Object.entries(r.errors)) console.log(`error       ${n} x ${reason}`);
  if (r.failed > 0) process.exitCode = 1;
}

async function devices(args: string[]) {
  const { values } = parseArgs({ args, options: { count: { type: "string" }, "serial-prefix": { type: "string", default: "SIM" } } });
  console.log(JSON.stringify(generateDevices(positiveInt(need(values, "count"), "count"), values["serial-prefix"]), null, 2));
}

const [command, ...rest] = process.argv.slice(2);
const commands: Record<string, (a: string[]) => Promise<void>> = { "init-ca": initCa, enroll: enrollOne, bench, devices };
const run = command ? commands[command] : undefined;
if (!run) {
  if (command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    process.exit(0);
  }
  fail(command ? `unknown command ${command}` : "no command");
}
try {
  await run(rest);
} catch (e) {
  if (e instanceof AcmeClientError) {
    console.error(`ACME error: ${e.message}`);
    if (e.problem) console.error(JSON.stringify(e.problem, null, 2));
  } else {
    console.error(e instanceof Error ? `${e.name}: ${e.message}` : String(e));
  }
  process.exit(1);
}
