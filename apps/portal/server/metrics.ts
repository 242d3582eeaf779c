import client from "prom-client";
import type { EnrollmentMetrics } from "@attested/enrollment";

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

export interface Metrics {
  /** The process's registry (summed over the host's server processes by cluster.ts). */
  registry: client.Registry;
  http: { observe(method: string, url: string, status: number, seconds: number): string };
  /** The enrollment path: what a PKI or Wi-Fi admin alerts on. */
  enrollment: EnrollmentMetrics;
  text(): Promise<string>;
}

/** The process's metrics, one registry (built once, by services.ts). */
export function createMetrics(): Metrics {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });

  const duration = new client.Histogram({
    name: "http_request_duration_seconds",
    help: "HTTP request duration by route class",
    labelNames: ["method", "route", "status"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });

  // Issuances and denials are counted once their event is on the trail, attestations and lookups as
  // they are checked; General Events has the details.
  const issued = new client.Counter({
    name: "attested_certificates_issued_total",
    help: "Certificates issued to devices through ACME",
    registers: [registry],
  });
  const denied = new client.Counter({
    name: "attested_enrollments_denied_total",
    help: "Enrollments denied at finalize, by reason code (General Events: Enrollment Denied)",
    labelNames: ["code"],
    registers: [registry],
  });
  const attestations = new client.Counter({
    name: "attested_attestations_total",
    help: "device-attest-01 answers checked: verified, or the reason the attestation failed",
    labelNames: ["result"],
    registers: [registry],
  });
  const lookups = new client.Histogram({
    name: "attested_device_lookup_duration_seconds",
    help: "Device lookups in Core Platforms (the MDM) during enrollment, by platform and answer (found, notFound, error)",
    labelNames: ["core_platform", "outcome"],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20],
    registers: [registry],
  });

  return {
    registry,
    http: {
      observe(method, url, status, seconds) {
        const route = routeClass(url);
        duration.observe({ method, route, status: String(status) }, seconds);
        return route;
      },
    },
    enrollment: {
      issued: () => issued.inc(),
      denied: (code) => denied.inc({ code }),
      attestation: (result) => attestations.inc({ result }),
      lookup: ({ corePlatform, outcome, timeMs }) => lookups.observe({ core_platform: corePlatform, outcome }, timeMs / 1000),
    },
    text: () => registry.metrics(),
  };
}
