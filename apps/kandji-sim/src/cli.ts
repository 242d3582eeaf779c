#!/usr/bin/env -S npx tsx
// Runs the Kandji API simulator for demos and manual tests:
//   tsx apps/kandji-sim/src/cli.ts --port 4010 --token X --seed apps/kandji-sim/seed.example.json
// The token may also come from KANDJI_SIM_TOKEN, the admin token from KANDJI_SIM_ADMIN_TOKEN.
import { parseArgs } from "node:util";
import { startKandjiSimulator } from "./server";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "4010" },
    host: { type: "string", default: "127.0.0.1" },
    token: { type: "string" },
    "admin-token": { type: "string" },
    seed: { type: "string" },
    // e.g. 10000/3600 = 10,000 requests per 3,600 s (Kandji's documented limit, the default)
    "rate-limit": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

const usage = "usage: cli.ts [--port 4010] [--host 127.0.0.1] --token TOKEN [--admin-token T] [--seed file.json] [--rate-limit N/SECONDS]";
if (values.help) {
  console.log(usage);
  process.exit(0);
}
const token = values.token ?? process.env.KANDJI_SIM_TOKEN;
if (!token) {
  console.error(`--token (or KANDJI_SIM_TOKEN) is required\n${usage}`);
  process.exit(2);
}
let rateLimit: { requests: number; windowMs: number } | undefined;
if (values["rate-limit"]) {
  const m = /^(\d+)\/(\d+)$/.exec(values["rate-limit"]);
  if (!m) {
    console.error(`--rate-limit must look like 10000/3600\n${usage}`);
    process.exit(2);
  }
  rateLimit = { requests: Number(m[1]), windowMs: Number(m[2]) * 1000 };
}
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be 0-65535\n${usage}`);
  process.exit(2);
}

const sim = await startKandjiSimulator({
  port,
  host: values.host,
  token,
  adminToken: values["admin-token"] ?? process.env.KANDJI_SIM_ADMIN_TOKEN,
  seed: values.seed,
  rateLimit,
});
console.log(`Kandji simulator listening on ${sim.url} (${sim.state.listDevices().length} devices)`);
console.log(`  devices: GET ${sim.url}/api/v1/devices?serial_number=... with Authorization: Bearer <token>`);
console.log(`  admin:   ${sim.url}/_sim/{devices,blueprints,faults,requests,reset} with Authorization: Bearer ${sim.adminToken}`);

const stop = () => void sim.close().then(() => process.exit(0));
process.once("SIGINT", stop);
process.once("SIGTERM", stop);
