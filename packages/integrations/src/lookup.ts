import { DEFAULT_HTTP_POLICY, httpGet, isRetryableStatus, type HttpDeps, type HttpPolicy } from "./http";
import { getAccessToken, invalidateAccessToken, tokenCacheKey, type OAuthClientCredentials } from "./oauth";
import { extractGroups, mapAttributes, type AttributeMapping, type Attributes, type MappingResult } from "./mapping";
import type { ResponseView } from "./paths";
import { evaluateRules, rulesPinIdentity, UNPINNED_WARNING, type RuleResult, type ValidationRule } from "./rules";
import { allowHttpFromEnv, createConfigSchema, SECRET_LABELS, type AuthMethod } from "./schema";
import { IDENTITY_VARIABLE, renderTemplate, TemplateError, templateUses } from "./template";

// Built once: every lookup re-checks the stored configuration with it.
const storedConfigSchema = createConfigSchema({ allowHttp: true, secretStored: true });
// A configuration object is checked once: callers pass the same object for as long as they cache it.
const checkedConfigs = new WeakMap<LookupConfig, ReturnType<typeof storedConfigSchema.safeParse>>();

// One device lookup through a Generic HTTP signal source (e.g. Kandji's
// GET /api/v1/devices?serial_number=${identity}). Outcomes:
//   found    - the call succeeded and every Response Validation rule passed;
//   notFound - the source answered and the device is not there or fails a rule (HTTP 404, an empty
//              list, a failed rule): a definite "no", which may justify Revoke On Failure;
//   error    - we could not get a definite answer (auth, rate limit, 5xx, timeout, bad config...):
//              deny the enrollment, but never revoke on it.
// Remote trouble never throws; `reason` says precisely what happened.

export interface LookupConfig {
  uri: string;
  authMethod: AuthMethod;
  /** Plaintext bearer token / password / API key (see openCorePlatformSecret). */
  secret?: string | null;
  basicUsername?: string | null;
  apiKeyHeader?: string | null;
  /** OAuth 2.0 client credentials (authMethod "oauth2"); the client secret is `secret`. */
  oauthTokenUrl?: string | null;
  oauthClientId?: string | null;
  oauthScope?: string | null;
  /** Whose cached access token this is (the Core Platform's id); part of the token cache key. */
  tokenOwner?: string;
  validationRules: ValidationRule[];
  attributeMappings: AttributeMapping[];
  groupsPath?: string | null;
  timeoutMs: number;
}

export interface LookupOptions {
  /** Accept an http:// URI (default: INTEGRATIONS_ALLOW_HTTP). */
  allowHttp?: boolean;
  /** Overrides of the HTTP policy (retries, backoff, size, total budget); timeoutMs comes from the config. */
  http?: Partial<Omit<HttpPolicy, "allowHttp">>;
  /** Attach the response (status, headers, start of the body) for the Validate display. */
  includeResponse?: boolean;
  /** Variables that stand for the identity in the pinning check (default ["${identity}"]). */
  identityVariables?: string[];
  deps?: HttpDeps;
}

export interface LookupInput {
  config: LookupConfig;
  /** The lookup key, e.g. the attested serial number; URL-encoded into the URI's ${identity}. */
  identity: string;
  /** For ${/...} variables: { attestation: {...}, csr: {...}, ... }. */
  context?: Record<string, unknown>;
  options?: LookupOptions;
}

export type LookupOutcome = "found" | "notFound" | "error";

export interface LookupResult {
  outcome: LookupOutcome;
  reason: string;
  /**
   * With outcome "error": the MDM gave no answer for now (timeout, connection failure, 5xx, 429), so
   * asking again later may succeed. Absent for a definite answer or a configuration error (401, 403,
   * an invalid URI or configuration), which asking again would not change.
   */
  unavailable?: true;
  /** With outcome "error": the MDM refused the credentials (401, 403). Admins must fix the configuration. */
  refused?: true;
  /** With OAuth 2.0 and outcome "error": whether the token request or the lookup itself failed. */
  failedStep?: "token" | "lookup";
  /** Final HTTP status, when a response came. */
  status?: number;
  timeMs: number;
  attempts: number;
  /** The URL requested (secret-looking query values redacted). */
  url?: string;
  rules: RuleResult[];
  attributes: Attributes;
  groups: string[];
  missingAttributes: MappingResult["missing"];
  /** Configuration advice for the portal (e.g. the identity is not pinned by any rule). */
  warnings: string[];
  response?: { status: number; headers: Record<string, string>; body: string; truncated: boolean };
}

const PREVIEW_BYTES = 16 * 1024;
const SECRET_PARAM = /(token|secret|key|password|passwd|signature|sig|auth)/i;

export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    for (const k of [...u.searchParams.keys()]) if (SECRET_PARAM.test(k)) u.searchParams.set(k, "REDACTED");
    return u.toString();
  } catch {
    return url;
  }
}

export function authHeaders(
  c: Pick<LookupConfig, "authMethod" | "secret" | "basicUsername" | "apiKeyHeader">,
  accessToken: string | null,
): Record<string, string> {
  switch (c.authMethod) {
    case "bearer":
      return { authorization: `Bearer ${c.secret}` };
    case "oauth2":
      return { authorization: `Bearer ${accessToken}` };
    case "basic":
      return { authorization: `Basic ${Buffer.from(`${c.basicUsername ?? ""}:${c.secret}`, "utf8").toString("base64")}` };
    case "api-key":
      return { [c.apiKeyHeader!.toLowerCase()]: c.secret! };
    default:
      return {};
  }
}

/**
 * A short explanation from an error body: {"detail": ...} as Kandji/DRF write it, message/error,
 * Microsoft Graph's {"error": {"code", "message"}} and Jamf Pro's {"errors": [{"code", "description"}]}.
 */
export function errorDetail(data: unknown): string | null {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return null;
  const d = data as Record<string, unknown>;
  for (const k of ["detail", "message", "error", "error_description"]) {
    const v = d[k];
    if (typeof v === "string" && v.trim()) return v.trim().slice(0, 200);
  }
  const nested = (o: unknown, text: string) => {
    if (o === null || typeof o !== "object") return null;
    const r = o as Record<string, unknown>;
    const parts = [r.code, r[text]].filter((x): x is string => typeof x === "string" && x.trim() !== "");
    return parts.length ? parts.join(": ").slice(0, 200) : null;
  };
  return nested(d.error, "message") ?? (Array.isArray(d.errors) ? nested(d.errors[0], "description") : null);
}

const retriesText = (n: number) => (n === 1 ? "1 retry" : `${n} retries`);

export function parseBody(body: Buffer, contentType: string): { ok: true; data: unknown } | { ok: false } {
  const text = body.toString("utf8");
  const looksJson = /[/+]json\b/i.test(contentType) || /^\s*[[{]/.test(text);
  if (text.trim() === "") return { ok: true, data: null };
  if (!looksJson) return { ok: true, data: text };
  try {
    return { ok: true, data: JSON.parse(text) as unknown };
  } catch {
    return /json/i.test(contentType) ? { ok: false } : { ok: true, data: text };
  }
}

const isEmpty = (data: unknown) => data === null || (Array.isArray(data) && data.length === 0) || (typeof data === "string" && data.trim() === "");

export async function lookupDevice(input: LookupInput): Promise<LookupResult> {
  const started = Date.now();
  const opts = input.options ?? {};
  const identityVariables = opts.identityVariables ?? [IDENTITY_VARIABLE];
  const base = {
    status: undefined as number | undefined,
    attempts: 0,
    rules: [] as RuleResult[],
    attributes: {} as Attributes,
    groups: [] as string[],
    missingAttributes: [] as MappingResult["missing"],
    warnings: [] as string[],
  };
  const done = (outcome: LookupOutcome, reason: string, extra: Partial<LookupResult> = {}): LookupResult => {
    const r: LookupResult = { ...base, outcome, reason, timeMs: Date.now() - started, ...extra };
    if (r.status === undefined) delete r.status;
    return r;
  };

  // Stored configuration is re-checked: a JSON column can hold anything.
  let parsed = checkedConfigs.get(input.config);
  if (!parsed) checkedConfigs.set(input.config, (parsed = storedConfigSchema.safeParse(input.config)));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return done("error", `invalid configuration: ${issue.path.join(".") || "config"}: ${issue.message}`);
  }
  const config: LookupConfig = { ...parsed.data, secret: input.config.secret ?? null };
  const label = SECRET_LABELS[config.authMethod];
  if (label && !config.secret) return done("error", `invalid configuration: no ${label} is set`);

  if (!rulesPinIdentity(config.validationRules, identityVariables)) base.warnings.push(UNPINNED_WARNING);
  if (!templateUses(config.uri, identityVariables)) base.warnings.push("The URI does not use ${identity}: every lookup asks for the same thing.");

  const identity = input.identity;
  // An empty filter value is ignored by Kandji, which would list every device.
  if (typeof identity !== "string" || identity.trim() === "") return done("error", "identity is empty");
  const vars = { identity, context: input.context };

  let url: string;
  try {
    url = renderTemplate(config.uri, vars, encodeURIComponent);
  } catch (e) {
    if (e instanceof TemplateError) return done("error", `URI: ${e.message}`);
    throw e;
  }
  const shownUrl = redactUrl(url);
  const policy = {
    ...DEFAULT_HTTP_POLICY,
    // A long configured timeout still gets its one full attempt.
    maxTotalMs: Math.max(DEFAULT_HTTP_POLICY.maxTotalMs, config.timeoutMs),
    ...opts.http,
    timeoutMs: config.timeoutMs,
    allowHttp: opts.allowHttp ?? allowHttpFromEnv(),
  };

  const oauth = config.authMethod === "oauth2";
  const credentials: OAuthClientCredentials | null = oauth
    ? { tokenUrl: config.oauthTokenUrl!, clientId: config.oauthClientId!, clientSecret: config.secret!, scope: config.oauthScope ?? null }
    : null;
  const tokenKey = credentials ? tokenCacheKey(input.config.tokenOwner ?? "", credentials) : "";
  const step = oauth ? { failedStep: "lookup" as const } : {};
  const token = async () => {
    const t = await getAccessToken(tokenKey, credentials!, { http: policy, deps: opts.deps });
    return t.ok ? t : done("error", `token request failed: ${t.reason}`, { failedStep: "token", ...(t.unavailable ? { unavailable: true as const } : {}) });
  };

  let accessToken: string | null = null;
  if (credentials) {
    const t = await token();
    if (!("ok" in t)) return t;
    accessToken = t.accessToken;
  }
  let http = await httpGet(url, authHeaders(config, accessToken), policy, opts.deps);
  if (credentials && http.kind === "response" && http.status === 401) {
    // The token was revoked or expired early: one new token, one more try.
    invalidateAccessToken(tokenKey, accessToken!);
    const t = await token();
    if (!("ok" in t)) return t;
    accessToken = t.accessToken;
    const attempts = http.attempts;
    http = await httpGet(url, authHeaders(config, accessToken), policy, opts.deps);
    http.attempts += attempts;
  }
  base.attempts = http.attempts;
  if (http.kind === "failure")
    return done("error", http.message, {
      url: shownUrl,
      ...step,
      ...(http.failure === "timeout" || http.failure === "network" ? { unavailable: true as const } : {}),
    });

  base.status = http.status;
  const contentType = http.headers["content-type"] ?? "";
  const body = parseBody(http.body, contentType);
  const response = opts.includeResponse
    ? {
        status: http.status,
        headers: Object.fromEntries(Object.entries(http.headers).filter(([k]) => k !== "set-cookie")),
        body: http.body.subarray(0, PREVIEW_BYTES).toString("utf8"),
        truncated: http.body.length > PREVIEW_BYTES,
      }
    : undefined;
  const extra = { url: shownUrl, ...(response ? { response } : {}) };

  if (http.status === 404) return done("notFound", "device not found (HTTP 404)", extra);
  if (http.status < 200 || http.status > 299) {
    const retries = http.attempts - 1;
    const detail = body.ok ? errorDetail(body.data) : null;
    const after = isRetryableStatus(http.status) && retries > 0 ? ` after ${retriesText(retries)}` : "";
    const transient = http.status === 429 || http.status >= 500;
    const refused = http.status === 401 || http.status === 403;
    const flag = transient ? { unavailable: true as const } : refused ? { refused: true as const } : {};
    return done("error", `HTTP ${http.status}${after}${detail ? ` (${detail})` : ""}`, { ...extra, ...step, ...flag });
  }
  if (!body.ok) return done("error", "response is not valid JSON", { ...extra, ...step });

  const view: ResponseView = { data: body.data, status: http.status, headers: http.headers };
  base.rules = evaluateRules(config.validationRules, view, vars);
  if (isEmpty(body.data)) return done("notFound", "device not found", extra);
  const failed = base.rules.find((r) => !r.passed);
  if (failed) return done("notFound", `rule failed: ${failed.message}`, extra);

  // Attributes and groups only for a device that passed: nothing downstream may use a rejected one's.
  const mapped = mapAttributes(config.attributeMappings, view, vars);
  return done("found", "device found", {
    ...extra,
    attributes: mapped.attributes,
    missingAttributes: mapped.missing,
    groups: extractGroups(config.groupsPath, view, vars),
  });
}
