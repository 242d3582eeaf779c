// A light HTTP transport for the simulator's ACME client: undici's keep-alive connection pool, answering
// with a small Response look-alike (status, ok, headers.get, text, json, arrayBuffer) instead of building
// a WHATWG Response with Headers and a ReadableStream per request. A simulated device makes ten requests
// per enrollment; on a benchmark machine shared with the server under test, the transport was the
// larger part of the simulator's own CPU.
import http from "node:http";
import { Agent } from "undici";
import type { Fetch } from "./acme-client";

export interface DeviceFetchOptions {
  /** Extra trusted CA certificates (PEM) for https, e.g. a private test CA. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Concurrent connections per origin (default 64). */
  maxSockets?: number;
  /** Per-request timeout in ms (default 120 s). */
  timeoutMs?: number;
}

/** Just the Headers method the ACME client reads, over node's lower-cased header object. */
class LightHeaders {
  constructor(private readonly raw: Record<string, string | string[] | undefined>) {}
  get(name: string): string | null {
    const v = this.raw[name.toLowerCase()];
    if (v === undefined) return null;
    return Array.isArray(v) ? v.join(", ") : v;
  }
  has(name: string): boolean {
    return this.raw[name.toLowerCase()] !== undefined;
  }
  forEach(fn: (value: string, key: string) => void): void {
    for (const [k, v] of Object.entries(this.raw)) if (v !== undefined) fn(Array.isArray(v) ? v.join(", ") : v, k);
  }
}

class LightResponse {
  readonly ok: boolean;
  readonly headers: LightHeaders;
  private used = false;
  constructor(
    readonly status: number,
    headers: Record<string, string | string[] | undefined>,
    private readonly body: Buffer,
    readonly url: string,
  ) {
    this.ok = status >= 200 && status < 300;
    this.headers = new LightHeaders(headers);
  }
  get statusText(): string {
    return http.STATUS_CODES[this.status] ?? "";
  }
  get bodyUsed(): boolean {
    return this.used;
  }
  private take(): Buffer {
    if (this.used) throw new TypeError("Body is unusable: Body has already been read");
    this.used = true;
    return this.body;
  }
  async text(): Promise<string> {
    return this.take().toString("utf8");
  }
  async json(): Promise<unknown> {
    return JSON.parse(this.take().toString("utf8"));
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
}

function headerRecord(h: RequestInit["headers"]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  if (h instanceof Headers) {
    h.forEach((v, k) => {
      out[k] = v;
    });
  } else if (Array.isArray(h)) for (const [k, v] of h) out[k!.toLowerCase()] = v!;
  else for (const [k, v] of Object.entries(h as Record<string, string>)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * A fetch for the ACME client (AcmeClientOptions.fetch, EnrollOptions.fetch, FleetOptions.fetch). The
 * responses implement what the client uses (status, ok, headers.get, text, json, arrayBuffer), not the
 * whole Response interface: it is meant for the simulator, not as a general fetch.
 */
export function createDeviceFetch(options: DeviceFetchOptions = {}): Fetch {
  const timeout = options.timeoutMs ?? 120_000;
  const agent = new Agent({ connections: options.maxSockets ?? 64, keepAliveTimeout: 4_000, connect: options.ca ? { ca: options.ca } : undefined });
  return (async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
    const method = (init.method ?? "GET").toUpperCase() as "GET" | "HEAD";
    const res = await agent.request({
      origin: url.origin,
      path: url.pathname + url.search,
      method,
      // undici closes the connection after a HEAD unless told otherwise (for servers that wrongly send a
      // body). An ACME newNonce HEAD has none, and a device keeps its connection for the requests after it.
      ...(method === "HEAD" ? { reset: false } : {}),
      headers: headerRecord(init.headers),
      body: requestBody(init),
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return new LightResponse(res.statusCode, res.headers, body, url.toString());
  }) as unknown as Fetch;
}

function requestBody(init: RequestInit): Buffer | string | undefined {
  if (init.body === undefined || init.body === null) return undefined;
  if (typeof init.body === "string") return init.body;
  if (init.body instanceof ArrayBuffer) return Buffer.from(init.body);
  if (ArrayBuffer.isView(init.body)) return Buffer.from(init.body.buffer, init.body.byteOffset, init.body.byteLength);
  throw new TypeError("createDeviceFetch: only string and byte bodies are supported");
}
