import { z } from "zod";
import { ATTRIBUTE_NAME, splitGroupsPaths } from "./mapping";
import { pathProblem } from "./paths";
import { patternProblem } from "./regex";
import { COMPARISONS, CONDITIONS } from "./rules";
import { renderTemplate, TemplateError, templateProblem } from "./template";

// Form schemas of a Core Platform of type Generic HTTP, one per tab plus the whole, with messages
// meant to be shown next to the field (keys of fieldErrors() are the field names, with array
// indexes: "validationRules.0.expected").

export const AUTH_METHODS = ["bearer", "basic", "api-key", "oauth2", "none"] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

export const AUTH_METHOD_LABELS: Record<AuthMethod, string> = {
  bearer: "Bearer Token",
  basic: "Basic Authentication",
  "api-key": "API Key Header",
  oauth2: "OAuth 2.0 Client Credentials",
  none: "None",
};

/** The label of the secret field for each method ("never shown again, only replaced"). */
export const SECRET_LABELS: Record<AuthMethod, string | null> = {
  bearer: "Bearer Token",
  basic: "Password",
  "api-key": "API Key",
  oauth2: "Client Secret",
  none: null,
};

export const DEFAULT_TIMEOUT_MS = 5_000;

/** Fleet inventory paging styles (see inventory.ts). */
export const LIST_PAGINGS = ["offset-limit", "page-size", "next-link"] as const;
export type ListPaging = (typeof LIST_PAGINGS)[number];
export const MAX_LIST_PAGE_SIZE = 2_000;
export const MAX_RULES = 20;
export const MAX_MAPPINGS = 50;

let allowHttp = false;

/** The server's INTEGRATIONS_ALLOW_HTTP setting, handed over at start (tests, demos against the simulator on loopback). */
export function setAllowHttp(enabled: boolean): void {
  allowHttp = enabled;
}

/** Whether plain-http URIs are accepted (INTEGRATIONS_ALLOW_HTTP, see setAllowHttp). */
export function allowHttpFromEnv(): boolean {
  return allowHttp;
}

// RFC 9110 token; a few names fetch manages itself or that would change the request's meaning.
const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = new Set(["host", "content-length", "connection", "transfer-encoding", "cookie", "user-agent", "accept"]);

const pathField = (label: string) =>
  z
    .string({ error: `${label} is required` })
    .trim()
    .min(1, `${label} is required`)
    .superRefine((v, ctx) => {
      const p = pathProblem(v);
      if (p) ctx.addIssue({ code: "custom", message: p });
    });

export const ruleSchema = z
  .object({
    path: pathField("Response Path"),
    condition: z.enum(CONDITIONS, { error: "Choose a Condition" }),
    expected: z.string().max(500, "Expected result is at most 500 characters").optional(),
  })
  .superRefine((r, ctx) => {
    if (!COMPARISONS.has(r.condition)) return;
    if (!r.expected) {
      ctx.addIssue({ code: "custom", path: ["expected"], message: "Expected result is required for this condition" });
      return;
    }
    const t = templateProblem(r.expected);
    if (t) ctx.addIssue({ code: "custom", path: ["expected"], message: t });
    // A pattern built from variables is checked when it runs; a literal one is checked now.
    else if (r.condition === "matches" && !r.expected.includes("${")) {
      const p = patternProblem(r.expected);
      if (p) ctx.addIssue({ code: "custom", path: ["expected"], message: p });
    }
  });

export const attributeMappingSchema = z.object({
  path: pathField("Response Path"),
  attribute: z
    .string({ error: "Attribute is required" })
    .trim()
    .regex(ATTRIBUTE_NAME, "Attribute must start with a letter and hold only letters, digits and _ (at most 64)"),
});

const groupsPathField = z
  .string()
  .trim()
  .max(1000, "Groups is at most 1000 characters")
  .superRefine((v, ctx) => {
    for (const p of splitGroupsPaths(v)) {
      const problem = pathProblem(p);
      if (problem) ctx.addIssue({ code: "custom", message: `${p}: ${problem}` });
    }
  })
  .transform((v) => (v === "" ? null : v))
  .nullable()
  .optional();

const secretField = z
  .string()
  .max(4096, "The secret is at most 4096 characters")
  .regex(/^[^\r\n]*$/, "The secret must be a single line")
  .nullable()
  .optional();

export interface ConfigSchemaOptions {
  /** Accept http:// URIs (default: INTEGRATIONS_ALLOW_HTTP). */
  allowHttp?: boolean;
  /** A secret is already stored, so an empty secret field means "keep it". */
  secretStored?: boolean;
}

function uriField(allowHttp: boolean) {
  return z
    .string({ error: "URI is required" })
    .trim()
    .min(1, "URI is required")
    .max(2048, "URI is at most 2048 characters")
    .superRefine((v, ctx) => {
      let rendered: string;
      try {
        // Any identity will do: this checks the shape the URI will have.
        rendered = renderTemplate(v, { identity: "IDENTITY", context: undefined }, encodeURIComponent);
      } catch (e) {
        // Context variables have no value here; that is fine, they are filled at lookup time.
        if (!(e instanceof TemplateError) || !/has no value$/.test(e.message)) {
          ctx.addIssue({ code: "custom", message: (e as Error).message });
          return;
        }
        rendered = v.replace(/\$\{[^}]*\}/g, "X");
      }
      let url: URL;
      try {
        url = new URL(rendered);
      } catch {
        ctx.addIssue({ code: "custom", message: "URI must be a full http(s) URL, e.g. https://tenant.api.kandji.io/api/v1/devices?serial_number=${identity}" });
        return;
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") ctx.addIssue({ code: "custom", message: "URI must start with https://" });
      else if (url.protocol === "http:" && !allowHttp) ctx.addIssue({ code: "custom", message: "URI must use https:// (plain http is refused)" });
      else if (url.username || url.password) ctx.addIssue({ code: "custom", message: "URI must not hold a user name or password: use Authentication Method" });
      else if (!url.hostname) ctx.addIssue({ code: "custom", message: "URI has no host" });
      // The credential goes wherever the URI points: a device's answer must not choose the server.
      else if (uriOrigin(v, "a") !== uriOrigin(v, "b")) ctx.addIssue({ code: "custom", message: "URI's scheme, host and port cannot hold variables" });
    });
}

/**
 * The origin (scheme, host, port) a URI template sends requests and its credential to; null when it
 * is not a URL. Variables are filled with `fill` (the schema refuses variables in the origin).
 */
export function uriOrigin(template: string, fill = "x"): string | null {
  try {
    return new URL(template.trim().replace(/\$\{[^}]*\}/g, fill)).origin;
  } catch {
    return null;
  }
}

const configurationShape = {
  authMethod: z.enum(AUTH_METHODS, { error: "Choose an Authentication Method" }),
  secret: secretField,
  basicUsername: z.string().trim().max(200, "User name is at most 200 characters").nullable().optional(),
  apiKeyHeader: z.string().trim().max(100, "Header name is at most 100 characters").nullable().optional(),
  oauthTokenUrl: z.string().trim().max(2048, "Token URL is at most 2048 characters").nullable().optional(),
  oauthClientId: z.string().trim().max(400, "Client ID is at most 400 characters").nullable().optional(),
  oauthScope: z
    .string()
    .trim()
    .max(1000, "Scope is at most 1000 characters")
    // RFC 6749 §3.3: space-separated scope tokens of printable ASCII without " and \.
    .regex(/^(?:[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*)?$/, 'Scope holds space-separated values of printable characters (no " or \\)')
    .nullable()
    .optional(),
};
const configurationObject = z.object(configurationShape);
type ConfigurationValues = z.output<typeof configurationObject>;

/** Why a token URL cannot be used, or null: a full https URL without variables or credentials. */
export function tokenUrlProblem(v: string, allowHttp: boolean): string | null {
  if (v.includes("${")) return "Token URL cannot hold variables";
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return "Token URL must be a full https URL, e.g. https://example.jamfcloud.com/api/oauth/token";
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "Token URL must start with https://";
  if (url.protocol === "http:" && !allowHttp) return "Token URL must use https:// (plain http is refused)";
  if (url.username || url.password) return "Token URL must not hold a user name or password";
  if (url.hash) return "Token URL cannot have a #fragment";
  return null;
}

function refineConfiguration(opts: ConfigSchemaOptions) {
  return (c: ConfigurationValues, ctx: z.RefinementCtx) => {
    const secretLabel = SECRET_LABELS[c.authMethod];
    if (secretLabel && !c.secret && !opts.secretStored) {
      ctx.addIssue({ code: "custom", path: ["secret"], message: `${secretLabel} is required` });
    }
    if (c.authMethod === "oauth2") {
      if (!c.oauthTokenUrl) ctx.addIssue({ code: "custom", path: ["oauthTokenUrl"], message: "Token URL is required" });
      else {
        const p = tokenUrlProblem(c.oauthTokenUrl, opts.allowHttp ?? allowHttpFromEnv());
        if (p) ctx.addIssue({ code: "custom", path: ["oauthTokenUrl"], message: p });
      }
      if (!c.oauthClientId) ctx.addIssue({ code: "custom", path: ["oauthClientId"], message: "Client ID is required" });
      else if (!/^[\x20-\x7e]+$/.test(c.oauthClientId))
        ctx.addIssue({ code: "custom", path: ["oauthClientId"], message: "Client ID may hold only printable ASCII characters" });
    }
    // Header values are bytes; a pasted token with non-ASCII characters cannot be sent as-is.
    // (A client secret travels in a form body, so any character is fine there.)
    if (c.secret && c.authMethod !== "basic" && c.authMethod !== "oauth2" && !/^[\x20-\x7e]+$/.test(c.secret)) {
      ctx.addIssue({ code: "custom", path: ["secret"], message: `${secretLabel} may hold only printable ASCII characters` });
    }
    if (c.authMethod === "basic") {
      if (!c.basicUsername) ctx.addIssue({ code: "custom", path: ["basicUsername"], message: "User name is required" });
      else if (c.basicUsername.includes(":")) ctx.addIssue({ code: "custom", path: ["basicUsername"], message: 'User name cannot contain ":"' });
    }
    if (c.authMethod === "api-key") {
      const h = c.apiKeyHeader ?? "";
      if (!h) ctx.addIssue({ code: "custom", path: ["apiKeyHeader"], message: "Header name is required" });
      else if (!HEADER_TOKEN.test(h))
        ctx.addIssue({ code: "custom", path: ["apiKeyHeader"], message: "Header name may hold only letters, digits and - (e.g. X-API-Key)" });
      else if (RESERVED_HEADERS.has(h.toLowerCase())) ctx.addIssue({ code: "custom", path: ["apiKeyHeader"], message: `${h} cannot carry an API key` });
    }
  };
}

/** Configuration tab: Authentication Method and its credentials. */
export function createConfigurationTabSchema(opts: ConfigSchemaOptions = {}) {
  return configurationObject.superRefine(refineConfiguration(opts));
}

/** API tab: URI, Response Validation rules and the timeout. */
export function createApiTabSchema(opts: ConfigSchemaOptions = {}) {
  return z.object({
    uri: uriField(opts.allowHttp ?? allowHttpFromEnv()),
    validationRules: z.array(ruleSchema).max(MAX_RULES, `At most ${MAX_RULES} rules`).default([]),
    timeoutMs: z.coerce
      .number({ error: "Timeout must be a number of milliseconds" })
      .int("Timeout must be a whole number of milliseconds")
      .min(100, "Timeout is at least 100 ms")
      .max(60_000, "Timeout is at most 60000 ms")
      .default(DEFAULT_TIMEOUT_MS),
  });
}

/** Attribute Mapping tab (with Groups). */
export const attributeMappingTabSchema = z.object({
  attributeMappings: z
    .array(attributeMappingSchema)
    .max(MAX_MAPPINGS, `At most ${MAX_MAPPINGS} mappings`)
    .default([])
    .superRefine((list, ctx) => {
      const seen = new Set<string>();
      list.forEach((m, i) => {
        if (seen.has(m.attribute)) ctx.addIssue({ code: "custom", path: [i, "attribute"], message: `Attribute ${m.attribute} is mapped twice` });
        seen.add(m.attribute);
      });
    }),
  groupsPath: groupsPathField,
});

/** The whole Generic HTTP configuration, all tabs together (what lookupDevice validates). */
export function createConfigSchema(opts: ConfigSchemaOptions = {}) {
  return (
    z
      .object({ ...configurationShape, ...createApiTabSchema(opts).shape, ...attributeMappingTabSchema.shape })
      // Run the credential checks even when another tab's fields fail, so the form shows every error.
      .superRefine(refineConfiguration(opts), { when: (p) => configurationObject.safeParse(p.value).success })
  );
}

/** https only, secret required: the strict form schema (use createConfigSchema for other options). */
export const configSchema = createConfigSchema({ allowHttp: false, secretStored: false });
export type GenericHttpConfigInput = z.input<typeof configSchema>;
export type GenericHttpConfig = z.output<typeof configSchema>;

/** Zod issues as { "field.path": "first message" }, ready to show beside each field. */
export function fieldErrors(error: z.ZodError): Record<string, string> {
  const out: Record<string, string> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".") || "_form";
    out[key] ??= issue.message;
  }
  return out;
}

/**
 * Fleet inventory (Configuration tab, optional): how the sweeps list every device. An empty List URI
 * means no inventory: the sweeps then look devices up one by one. The List URI is sent the same
 * credential as the URI, so it must be on the same scheme, host and port (checked with the URI).
 */
export function createInventorySchema(opts: ConfigSchemaOptions = {}) {
  const allow = opts.allowHttp ?? allowHttpFromEnv();
  return z
    .object({
      listUri: z
        .string()
        .trim()
        .max(2048, "List URI is at most 2048 characters")
        .transform((v) => (v === "" ? null : v))
        .nullable()
        .optional(),
      listPaging: z.preprocess((v) => (v === "" ? null : v), z.enum(LIST_PAGINGS, { error: "Choose a Paging style" }).nullable().optional()),
      listItemsPath: z
        .string()
        .trim()
        .transform((v) => (v === "" ? null : v))
        .nullable()
        .optional(),
      listSerialPath: z
        .string()
        .trim()
        .transform((v) => (v === "" ? null : v))
        .nullable()
        .optional(),
      listPageSize: z.coerce
        .number({ error: "Page Size must be a number" })
        .int("Page Size must be a whole number")
        .min(1, "Page Size is at least 1")
        .max(MAX_LIST_PAGE_SIZE, `Page Size is at most ${MAX_LIST_PAGE_SIZE}`)
        .default(300),
    })
    .superRefine((v, ctx) => {
      if (!v.listUri) return;
      if (v.listUri.includes("${")) {
        ctx.addIssue({ code: "custom", path: ["listUri"], message: "List URI cannot hold variables: it lists every device" });
      } else {
        const r = uriField(allow).safeParse(v.listUri);
        if (!r.success) ctx.addIssue({ code: "custom", path: ["listUri"], message: `List ${r.error.issues[0]!.message}` });
      }
      if (!v.listPaging) ctx.addIssue({ code: "custom", path: ["listPaging"], message: "Paging is required with a List URI" });
      for (const [key, label] of [
        ["listItemsPath", "Items Path"],
        ["listSerialPath", "Serial Number Path"],
      ] as const) {
        const p = v[key];
        if (!p) ctx.addIssue({ code: "custom", path: [key], message: `${label} is required with a List URI` });
        else {
          const problem = pathProblem(p);
          if (problem) ctx.addIssue({ code: "custom", path: [key], message: problem });
          else if (!p.startsWith("data"))
            ctx.addIssue({ code: "custom", path: [key], message: `${label} starts with data (the page, or for the serial number the item)` });
        }
      }
    });
}
