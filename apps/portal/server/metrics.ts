import client from "prom-client";
import type { EnrollmentMetrics } from "@attested/enrollment";

// One registry per process, shared with route handlers through globalThis.
const g = globalThis as unknown as { __attestedMetrics?: client.Registry };
export const registry = (g.__attestedMetrics ??= (() => {
  const r = new client.Registry();
  client.collectDefaultMetrics({ register: r });
  return r;
})());

/** A metric of the shared registry, created once: this module can be loaded twice (server and Next's bundle). */
function metric<M extends client.Metric>(name: string, make: () => M): M {
  return (registry.getSingleMetric(name) as M | undefined) ?? make();
}

const duration = metric("http_request_duration_seconds", () => new client.Histogram({
  name: "http_request_duration_seconds",
  help: "HTTP request duration by route class",
  labelNames: ["method", "route", "status"],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
}));

/** Coarse route classes keep label cardinality bounded. */
function routeClass(url: string): string {
  const p = url.split("?")[0];
  if (p === "/healthz" || p === "/readyz" || p === "/metrics") return "health";
  if (p.startsWith("/acme/")) return "acme";
  if (p.startsWith("/ocsp/")) return "ocsp";
  if (p.startsWith("/crl/")) return "crl";
  if (p.startsWith("/api/v1/")) return "api";
  if (p.startsWith("/api/auth/")) return "auth";
  if (p.startsWith("/_next/")) return "static";
  return "portal";
}

export const httpMetrics = {
  observe(method: string, url: string, status: number, seconds: number): string {
    const route = routeClass(url);
    duration.observe({ method, route, status: String(status) }, seconds);
    return route;
  },
};

export const metricsText = () => registry.metrics();

// The enrollment path (docs/protocol.md#the-enrollment-flow): what a PKI or Wi-Fi admin alerts on. Issuances and denials are counted
// once their event is on the trail, attestations and lookups as they are checked; General Events has the
// details.
const issued = metric("attested_certificates_issued_total", () => new client.Counter({
  name: "attested_certificates_issued_total",
  help: "Certificates issued to devices through ACME",
  registers: [registry],
}));
const denied = metric("attested_enrollments_denied_total", () => new client.Counter({
  name: "attested_enrollments_denied_total",
  help: "Enrollments denied at finalize, by reason code (General Events: Enrollment Denied)",
  labelNames: ["code"],
  registers: [registry],
}));
const attestations = metric("attested_attestations_total", () => new client.Counter({
  name: "attested_attestations_total",
  help: "device-attest-01 answers checked: verified, or the reason the attestation failed",
  labelNames: ["result"],
  registers: [registry],
}));
const lookups = metric("attested_device_lookup_duration_seconds", () => new client.Histogram({
  name: "attested_device_lookup_duration_seconds",
  help: "Device lookups in Core Platforms (the MDM) during enrollment, by platform and answer (found, notFound, error)",
  labelNames: ["core_platform", "outcome"],
  buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
  registers: [registry],
}));

export const enrollmentMetrics: EnrollmentMetrics = {
  issued: () => issued.inc(),
  denied: (code) => denied.inc({ code }),
  attestation: (result) => attestations.inc({ result }),
  lookup: ({ corePlatform, outcome, timeMs }) => lookups.observe({ core_platform: corePlatform, outcome }, timeMs / 1000),
};
