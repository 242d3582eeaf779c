// A light HTTP transport for the simulator's ACME client: node:http(s) with keep-alive, answering with a
// small Response look-alike (status, ok, headers.get, text, json, arrayBuffer) instead of building a
// WHATWG Response with Headers and a ReadableStream per request. A simulated device makes ten requests
// per enrollment; on a benchmark machine shared with the server under test, the transport was the
// larger part of the simulator's own CPU.
import http from "node:http";
import https from "node:https";
import net from "node:net";
import tls from "node:tls";
import type { Fetch } from "./acme-client";

export interface DeviceFetchOptions {
  /** Extra trusted CA certificates (PEM) for https, e.g. a private test CA. */
  ca?: string | Buffer | (string | Buffer)[];
  /** Concurrent connections per origin (default 64). */
  maxSockets?: number;
  /** Per-request timeout in ms (default 120 s). */
  timeoutMs?: number;
  /**
   * "raw" (default): a small HTTP/1.1 client on net/tls sockets (one write per request, a plain response
   * parser); "node:http": node's http client with a keep-alive Agent.
   */
  engine?: "raw" | "node:http";
  /** Idle keep-alive connections are closed after this long (raw engine; default 4 s). */
  idleTimeoutMs?: number;
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
  if (h instanceof Headers) h.forEach((v, k) => (out[k] = v));
  else if (Array.isArray(h)) for (const [k, v] of h) out[k!.toLowerCase()] = v!;
  else for (const [k, v] of Object.entries(h as Record<string, string>)) out[k.toLowerCase()] = v;
  return out;
}

/**
 * A fetch for the ACME client (AcmeClientOptions.fetch, EnrollOptions.fetch, FleetOptions.fetch). The
 * responses implement what the client uses (status, ok, headers.get, text, json, arrayBuffer), not the
 * whole Response interface: it is meant for the simulator, not as a general fetch.
 */
export function createDeviceFetch(options: DeviceFetchOptions = {}): Fetch {
  return options.engine === "node:http" ? nodeHttpFetch(options) : rawFetch(options);
}

function requestBody(init: RequestInit): Buffer | string | undefined {
  if (init.body === undefined || init.body === null) return undefined;
  if (typeof init.body === "string") return init.body;
  if (init.body instanceof ArrayBuffer) return Buffer.from(init.body);
  if (ArrayBuffer.isView(init.body)) return Buffer.from(init.body.buffer, init.body.byteOffset, init.body.byteLength);
  throw new TypeError("createDeviceFetch: only string and byte bodies are supported");
}

function nodeHttpFetch(options: DeviceFetchOptions): Fetch {
  const maxSockets = options.maxSockets ?? 64;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets });
  const httpsAgent = new https.Agent({ keepAlive: true, maxSockets, ca: options.ca });
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<LightResponse> => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const secure = url.startsWith("https:");
    const method = init.method ?? "GET";
    const headers = headerRecord(init.headers);
    const body = requestBody(init);
    if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(url, { method, headers, agent: secure ? httpsAgent : httpAgent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(new LightResponse(res.statusCode ?? 0, res.headers, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), url)));
        res.on("error", reject);
      });
      req.setTimeout(timeoutMs, () => req.destroy(new Error("request timed out")));
      req.on("error", reject);
      if (init.signal) {
        if (init.signal.aborted) req.destroy(init.signal.reason as Error);
        else init.signal.addEventListener("abort", () => req.destroy(init.signal!.reason as Error), { once: true });
      }
      req.end(body);
    });
  };
  return f as unknown as Fetch;
}

// ------------------------------------------------------------------ the raw HTTP/1.1 engine

const CRLFCRLF = Buffer.from("\r\n\r\n");
const NO_BODY_STATUS = (status: number) => (status >= 100 && status < 200) || status === 204 || status === 304;

interface Exchange {
  head: Buffer;
  body: Buffer | string | undefined;
  method: string;
  url: string;
  resolve: (r: LightResponse) => void;
  reject: (e: Error) => void;
  signal?: AbortSignal | null;
}

/**
 * One keep-alive connection: one exchange at a time. The response is parsed from the socket's chunks:
 * status line, headers, then a body by Content-Length, chunked transfer coding, or until close.
 */
class Connection {
  private buf: Buffer = Buffer.alloc(0);
  private current: Exchange | null = null;
  private gotBytes = false;
  private idleTimer: NodeJS.Timeout | null = null;
  dead = false;

  constructor(
    readonly socket: net.Socket,
    private readonly pool: OriginPool,
    private readonly timeoutMs: number,
  ) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.onData(chunk));
    socket.on("error", (e) => this.fail(e));
    socket.on("close", () => this.fail(new Error("the server closed the connection")));
    socket.on("timeout", () => socket.destroy(new Error("request timed out")));
  }

  send(x: Exchange): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
    this.current = x;
    this.gotBytes = false;
    this.buf = Buffer.alloc(0);
    this.socket.ref();
    this.socket.setTimeout(this.timeoutMs);
    x.signal?.addEventListener("abort", () => this.current === x && this.socket.destroy(x.signal!.reason as Error), { once: true });
    if (x.body === undefined) this.socket.write(x.head);
    else if (typeof x.body === "string") this.socket.write(Buffer.concat([x.head, Buffer.from(x.body, "utf8")]));
    else this.socket.write(Buffer.concat([x.head, x.body]));
  }

  private onData(chunk: Buffer): void {
    if (!this.current) {
      this.socket.destroy(); // bytes nobody asked for: the connection is not usable
      return;
    }
    this.gotBytes = true;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    let parsed: { response: LightResponse; keepAlive: boolean } | null;
    try {
      parsed = this.tryParse(false);
    } catch (e) {
      this.socket.destroy(e as Error);
      return;
    }
    if (parsed) this.finish(parsed.response, parsed.keepAlive);
  }

  /** The response, once complete in the buffer; `closed`: the server closed the connection (end of body). */
  private tryParse(closed: boolean): { response: LightResponse; keepAlive: boolean } | null {
    const x = this.current!;
    let at = 0;
    for (;;) {
      const end = this.buf.indexOf(CRLFCRLF, at);
      if (end < 0) return null;
      const lines = this.buf.toString("latin1", at, end).split("\r\n");
      const m = /^HTTP\/1\.([01]) (\d{3})/.exec(lines[0]!);
      if (!m) throw new Error(`not an HTTP/1.x response: ${lines[0]!.slice(0, 40)}`);
      const status = Number(m[2]);
      const headers: Record<string, string | string[]> = {};
      for (let i = 1; i < lines.length; i++) {
        const line = lines[i]!;
        const colon = line.indexOf(":");
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        const prev = headers[name];
        headers[name] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
      }
      const bodyStart = end + 4;
      if (status >= 100 && status < 200) {
        at = bodyStart; // informational (100 Continue): the real response follows
        continue;
      }
      const connection = String(headers.connection ?? "").toLowerCase();
      const keepAlive = m[1] === "1" ? !connection.includes("close") : connection.includes("keep-alive");
      const make = (body: Buffer, ka: boolean) => ({ response: new LightResponse(status, headers, body, x.url), keepAlive: ka });
      if (x.method === "HEAD" || NO_BODY_STATUS(status)) return make(Buffer.alloc(0), keepAlive && this.buf.length === bodyStart);
      const te = String(headers["transfer-encoding"] ?? "").toLowerCase();
      if (te.includes("chunked")) {
        const body = decodeChunked(this.buf, bodyStart);
        if (!body) return null;
        return make(body.data, keepAlive && body.end === this.buf.length);
      }
      const cl = headers["content-length"];
      if (cl !== undefined) {
        const len = Number(Array.isArray(cl) ? cl[0] : cl);
        if (!Number.isSafeInteger(len) || len < 0) throw new Error("bad Content-Length");
        if (this.buf.length - bodyStart < len) return null;
        return make(this.buf.subarray(bodyStart, bodyStart + len), keepAlive && this.buf.length === bodyStart + len);
      }
      // No length: the body runs until the server closes the connection.
      return closed ? make(this.buf.subarray(bodyStart), false) : null;
    }
  }

  private finish(response: LightResponse, keepAlive: boolean): void {
    const x = this.current!;
    this.current = null;
    this.buf = Buffer.alloc(0);
    this.socket.setTimeout(0);
    if (keepAlive && !this.dead) {
      this.socket.unref();
      this.idleTimer = setTimeout(() => this.socket.destroy(), this.pool.idleTimeoutMs);
      this.idleTimer.unref();
      this.pool.release(this);
    } else {
      this.dead = true;
      this.socket.destroy();
      this.pool.forget(this);
    }
    x.resolve(response);
  }

  private fail(e: Error): void {
    if (this.dead && !this.current) return;
    this.dead = true;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.pool.forget(this);
    const x = this.current;
    if (!x) return;
    // A body that runs until close ends here.
    if (this.gotBytes && !this.socket.errored) {
      try {
        const parsed = this.tryParse(true);
        if (parsed) {
          this.current = null;
          x.resolve(parsed.response);
          return;
        }
      } catch {
        // fall through to the error
      }
    }
    this.current = null;
    x.reject(e);
  }
}

/** Body of a chunked response starting at `from`, or null while incomplete (trailers are skipped). */
function decodeChunked(buf: Buffer, from: number): { data: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const eol = buf.indexOf("\r\n", at, "latin1");
    if (eol < 0) return null;
    const size = parseInt(buf.toString("latin1", at, eol).split(";")[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error("bad chunk size");
    at = eol + 2;
    if (size === 0) {
      // trailers, then an empty line
      for (;;) {
        const t = buf.indexOf("\r\n", at, "latin1");
        if (t < 0) return null;
        const empty = t === at;
        at = t + 2;
        if (empty) return { data: parts.length === 1 ? parts[0]! : Buffer.concat(parts), end: at };
      }
    }
    if (buf.length < at + size + 2) return null;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}

/** Connections to one origin: idle ones are reused, at most maxSockets at once, the rest wait in line. */
class OriginPool {
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private readonly waiting: Exchange[] = [];

  constructor(
    private readonly connect: () => net.Socket,
    private readonly maxSockets: number,
    private readonly timeoutMs: number,
    readonly idleTimeoutMs: number,
  ) {}

  submit(x: Exchange): void {
    let c: Connection | undefined;
    while ((c = this.idle.pop()) && (c.dead || c.socket.destroyed));
    if (c) return c.send(x);
    if (this.all.size < this.maxSockets) {
      const conn = new Connection(this.connect(), this, this.timeoutMs);
      this.all.add(conn);
      return conn.send(x);
    }
    this.waiting.push(x);
  }

  release(c: Connection): void {
    const next = this.waiting.shift();
    if (next) c.send(next);
    else this.idle.push(c);
  }

  forget(c: Connection): void {
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
    const next = this.waiting.shift();
    if (next) this.submit(next);
  }
}

function rawFetch(options: DeviceFetchOptions): Fetch {
  const maxSockets = options.maxSockets ?? 64;
  const timeoutMs = options.timeoutMs ?? 120_000;
  const idleTimeoutMs = options.idleTimeoutMs ?? 4_000;
  const pools = new Map<string, OriginPool>();
  const poolFor = (u: URL): OriginPool => {
    const key = `${u.protocol}//${u.host}`;
    let pool = pools.get(key);
    if (!pool) {
      const secure = u.protocol === "https:";
      const host = u.hostname.startsWith("[") ? u.hostname.slice(1, -1) : u.hostname;
      const port = Number(u.port || (secure ? 443 : 80));
      const connect = secure
        ? () => tls.connect({ host, port, servername: net.isIP(host) ? undefined : host, ca: options.ca, ALPNProtocols: ["http/1.1"] })
        : () => net.connect({ host, port });
      pool = new OriginPool(connect, maxSockets, timeoutMs, idleTimeoutMs);
      pools.set(key, pool);
    }
    return pool;
  };
  const f = (input: string | URL | Request, init: RequestInit = {}): Promise<LightResponse> => {
    const href = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const u = new URL(href);
    if (u.protocol !== "http:" && u.protocol !== "https:") return Promise.reject(new TypeError(`unsupported protocol ${u.protocol}`));
    const method = (init.method ?? "GET").toUpperCase();
    const headers = headerRecord(init.headers);
    const body = requestBody(init);
    if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
    headers.host ??= u.host;
    headers.connection ??= "keep-alive";
    let head = `${method} ${u.pathname}${u.search} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) {
      if (/[\r\n]/.test(k) || /[\r\n]/.test(v)) return Promise.reject(new TypeError("invalid header"));
      head += `${k}: ${v}\r\n`;
    }
    head += "\r\n";
    return new Promise((resolve, reject) => {
      if (init.signal?.aborted) return reject(init.signal.reason as Error);
      poolFor(u).submit({ head: Buffer.from(head, "latin1"), body, method, url: href, resolve, reject, signal: init.signal });
    });
  };
  return f as unknown as Fetch;
}
