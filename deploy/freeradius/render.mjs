#!/usr/bin/env node
// Renders deploy/freeradius/ into a FreeRADIUS 3.2 configuration directory for EAP-TLS with this
// portal's certificates (README: Connecting Wi-Fi). The portal's values come from its REST API: the
// CA certificates devices chain to, each CA's OCSP responder. Plain Node, no dependencies, so it runs
// on the RADIUS host.
//
//   node render.mjs --portal https://pki.example.com --token-file radius.token \
//     --server-cert server.pem --server-key server.key --client-secret-file secret --out /etc/freeradius/attested
import { chmodSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";

const here = import.meta.dirname;
const usage = `usage: node render.mjs --portal URL --token-file FILE --server-cert FILE --server-key FILE
         --client-secret-file FILE --out DIR [--client-address 127.0.0.1/32] [--listen *] [--port 1812]
         [--ca ID-OR-NAME ...] [--portal-ca-file FILE] [--dir DIR]`;

function fail(message) {
  console.error(`render.mjs: ${message}`);
  process.exit(2);
}
let o;
try {
  ({ values: o } = parseArgs({
    options: {
      portal: { type: "string" },
      "token-file": { type: "string" },
      "server-cert": { type: "string" },
      "server-key": { type: "string" },
      "client-secret-file": { type: "string" },
      "client-address": { type: "string", default: "127.0.0.1/32" },
      listen: { type: "string", default: "*" },
      port: { type: "string", default: "1812" },
      ca: { type: "string", multiple: true },
      "portal-ca-file": { type: "string" },
      out: { type: "string" },
      dir: { type: "string" },
      help: { type: "boolean" },
    },
  }));
} catch (e) {
  // An unknown or incomplete option: what was wrong and the usage, not a stack trace.
  fail(`${e.message}\n${usage}`);
}
if (o.help) {
  console.log(usage);
  process.exit(0);
}
const need = (k) => o[k] || fail(`--${k} is required\n${usage}`);
/** The file named by --k, read before anything is written: a wrong path leaves no half-rendered folder. */
const readOption = (k) => {
  try {
    return readFileSync(need(k));
  } catch (e) {
    fail(`--${k}: cannot read ${o[k]} (${e.code ?? e.message})`);
  }
};
const readSecret = (k) => {
  const v = readOption(k).toString("utf8").trim();
  if (!v) fail(`--${k}: the file is empty`);
  // The values go into FreeRADIUS strings: no quote, backslash or line break may close them early.
  if (/["\\\r\n]/.test(v)) fail(`--${k}: the value must not contain quotes, backslashes or line breaks`);
  return v;
};

const portal = need("portal").replace(/\/+$/, "");
if (!/^https?:\/\/[^\s"]+$/.test(portal)) fail("--portal must be the portal's http(s) URL");
const token = readSecret("token-file");
const clientSecret = readSecret("client-secret-file");
const serverCert = readOption("server-cert");
const serverKey = readOption("server-key");
const portalCa = o["portal-ca-file"] ? readOption("portal-ca-file") : null;
if (!/^\d+$/.test(o.port) || Number(o.port) < 1 || Number(o.port) > 65535) fail("--port must be a port number");
if (!/^[0-9a-fA-F:.*/]+$/.test(o["client-address"])) fail("--client-address must be an IP address or network");
if (!/^[0-9a-fA-F:.*]+$/.test(o.listen)) fail("--listen must be an IP address or *");
const out = path.resolve(need("out"));
const dir = path.resolve(o.dir ?? out);

// The CAs: all of the portal's, or those named by --ca (id or common name) and their parents.
const res = await fetch(`${portal}/api/v1/certificate-authorities`, { headers: { authorization: `Bearer ${token}` } }).catch((e) =>
  fail(`cannot reach the portal at ${portal}: ${e.cause?.message ?? e.message}`),
);
if (!res.ok) fail(`GET ${portal}/api/v1/certificate-authorities: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
const cas = await res.json().then(
  (body) => body.data,
  () => fail(`${portal}/api/v1/certificate-authorities did not answer JSON: is --portal the portal's URL?`),
);
const byId = new Map(cas.map((c) => [c.id, c]));
const chosen = new Set();
for (const want of o.ca ?? cas.map((c) => c.id)) {
  let c = cas.find((x) => x.id === want || x.commonName === want);
  if (!c) fail(`--ca ${want}: no such Certificate Authority`);
  for (; c && !chosen.has(c.id); c = c.parentId ? byId.get(c.parentId) : undefined) chosen.add(c.id);
}
const trusted = cas.filter((c) => chosen.has(c.id) && new Date(c.notAfter ?? Date.now() + 1) > new Date());
if (!trusted.length) fail("the portal has no valid Certificate Authority to trust");
const firstIssuing = trusted.find((c) => c.type !== "ROOT") ?? trusted[0];

const values = {
  dir,
  portalUrl: portal,
  apiToken: token,
  clientSecret,
  clientAddress: o["client-address"],
  listenAddress: o.listen,
  authPort: o.port,
  ocspUrl: `${portal}/ocsp/${firstIssuing.id}`,
  restCaLine: o["portal-ca-file"] ? "ca_file = ${certdir}/portal-tls-ca.pem" : "# the portal's TLS certificate is checked against the system's CAs",
};
const render = (text) => text.replace(/\{\{(\w+)\}\}/g, (_, k) => (k in values ? values[k] : fail(`unknown placeholder {{${k}}}`)));

for (const sub of ["", "mods-enabled", "sites-enabled", "certs", "log", "run"]) mkdirSync(path.join(out, sub), { recursive: true, mode: 0o750 });
const templates = [
  "radiusd.conf",
  "clients.conf",
  "dictionary",
  ...["mods-enabled", "sites-enabled"].flatMap((d) => readdirSync(path.join(here, d)).map((f) => `${d}/${f}`)),
];
for (const t of templates) {
  if (!statSync(path.join(here, t)).isFile()) continue;
  // Tokens and the RADIUS secret are in these files: readable by their owner only.
  writeFileSync(path.join(out, t), render(readFileSync(path.join(here, t), "utf8")), { mode: 0o600 });
}
writeFileSync(path.join(out, "certs/attested-pki-ca.pem"), `${trusted.map((c) => c.certificatePem.trim()).join("\n")}\n`);
writeFileSync(path.join(out, "certs/server.pem"), serverCert);
writeFileSync(path.join(out, "certs/server.key"), serverKey, { mode: 0o600 });
chmodSync(path.join(out, "certs/server.key"), 0o600);
if (portalCa) writeFileSync(path.join(out, "certs/portal-tls-ca.pem"), portalCa);
console.log(`FreeRADIUS configuration written to ${out}, trusting ${trusted.map((c) => c.commonName).join(", ")}`);
