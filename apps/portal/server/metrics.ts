import client from "prom-client";

// One registry per process, shared with route handlers through globalThis.
const g = globalThis as unknown as { __attestedMetrics?: client.Registry };
export const registry = (g.__attestedMetrics ??= (() => {
  const r = new client.Registry();
  client.collectDefaultMetrics({ register: r });
  return r;
})());

const duration = new client.Histogram({
  name: "http_request_duration_seconds",
  help: "HTTP request duration by route class",
  labelNames: ["method", "route", "status"],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [registry],
});

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
