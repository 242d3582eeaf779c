import { makeAttribute, formatDn, splitDn, unescapeDnValue, type DnAttribute } from "./dn";
import { sanError, type San, type SanType } from "./san";
import type { PkiFieldError } from "@attested/errors";
import { allValues, lookup, parseVariables, type Part as VariablePart, type SyntaxOptions, type SyntaxProblem, type VariablePath } from "@attested/variables";

/** The one key rule of every `${/path}` (see @attested/variables); re-exported for this package's tests. */
export { lookup };

// The `${/path}` variable language of certificate templates (docs/guide.md#creating-a-certificate-template):
// `${/csr/subject/commonname}`, `${/attestation/serialNumber}`, `${/device/userDescription}`.
// Keys are matched case-insensitively; `${/device/groups|join:;}` joins a list with ";" (default ",").
// In a SAN field a list without `|join:` gives one SAN per value. Syntax, key rule and list rule are
// @attested/variables', shared with Security Signal Sources and Generic HTTP.

export const VARIABLE_ROOTS = ["csr", "device", "attestation", "account", "platform"] as const;
export type VariableRoot = (typeof VARIABLE_ROOTS)[number];

/** Everything a template may refer to. Values are strings, numbers, booleans, or lists of them. */
export interface TemplateContext {
  csr?: { subject?: Record<string, unknown>; san?: Record<string, unknown> };
  device?: Record<string, unknown>;
  attestation?: Record<string, unknown>;
  account?: Record<string, unknown>;
  platform?: Record<string, unknown>;
}

/** The template fields that render: Subject and the four SAN fields. */
export interface RenderableTemplate {
  subject: string;
  sanOtherName?: string;
  sanRfc822?: string;
  sanDns?: string;
  sanUri?: string;
}

const SAN_LABELS: Record<SanType, string> = { otherName: "Other Name", rfc822: "RFC822", dns: "DNS", uri: "URI" };

export const SAN_FIELDS: ReadonlyArray<readonly [keyof RenderableTemplate, SanType]> = [
  ["sanOtherName", "otherName"],
  ["sanRfc822", "rfc822"],
  ["sanDns", "dns"],
  ["sanUri", "uri"],
];

export interface RenderResult {
  /** One attribute per RDN, in the order written (= DER order). */
  subject: DnAttribute[];
  subjectDn: string;
  sans: San[];
  errors: PkiFieldError[];
  /** Values the template names that are not in the certificate, and why (a variable without a value). */
  omitted: { field: keyof RenderableTemplate; reason: string }[];
  /** Values built from the request's own `/csr/...` values, rather than from Apple, the MDM or the template. */
  fromCsr: { field: keyof RenderableTemplate; value: string }[];
}

type Part = Exclude<VariablePart, { kind: "identity" }>;

const MAX_SANS_PER_FIELD = 100;
/** Templates join lists with `|join:`, name one of the five roots, and a root alone is not a value. */
const TEMPLATE_SYNTAX: SyntaxOptions = { join: true, roots: VARIABLE_ROOTS, minSegments: 2 };

function problemMessage(p: SyntaxProblem): string {
  switch (p.kind) {
    case "unclosed":
      return `Unclosed "\${" at position ${p.position}`;
    case "notAVariable":
      return `${p.raw} is not a variable: write a path such as \${/csr/subject/commonname}`;
    case "forbidden":
      return `"${p.segment}" is not allowed in ${p.raw}`;
    case "unknownRoot":
      return `${p.raw} has an unknown root "/${p.root}": use ${VARIABLE_ROOTS.map((r) => `/${r}`).join(", ")}`;
    case "badModifier":
      return `${p.raw}: the only modifier is |join:<separator>`;
  }
}

/** Splits a template string into text and variables, reporting syntax errors and unknown roots. */
export function parseTemplateString(text: string): { parts: readonly Part[]; errors: string[] } {
  const { parts, problems } = parseVariables(text, TEMPLATE_SYNTAX);
  // Templates do not allow ${identity}: there are only text and path parts.
  return { parts: parts as readonly Part[], errors: problems.map(problemMessage) };
}

/** A variable's values: none when absent, one for a scalar, several for a list. */
function valuesOf(v: unknown, raw: string): { values: string[]; error?: string } {
  const r = allValues(v);
  if (r.notAValue === "objectList") return { values: [], error: `${raw} holds a list of objects, not of values` };
  if (r.notAValue === "object") return { values: [], error: `${raw} refers to an object, not a value: name one of its fields` };
  return r;
}

/** Why a variable gives no value, or undefined when it does. */
type Withheld = (path: VariablePath) => string | undefined;

interface Rendered {
  values: string[];
  errors: string[];
  /** Why each variable without a value has none: the rendered text would have a hole there. */
  missing: string[];
  /** Some value came from a `/csr/...` variable: the client's own request, not Apple or the MDM. */
  fromCsr: boolean;
}

/**
 * Renders parsed parts. With `fanOut`, the first list-valued variable without `|join:` yields one
 * result per value; otherwise lists are joined. `text` maps literal text (e.g. DN unescaping).
 */
function renderParts(parts: readonly Part[], context: TemplateContext, fanOut: boolean, withheld: Withheld, text: (t: string) => string = (t) => t): Rendered {
  const errors: string[] = [];
  const missing: string[] = [];
  let fromCsr = false;
  const resolved = parts.map((p) => {
    if (p.kind === "text") return { values: [text(p.text)], join: "" };
    const why = withheld(p.path);
    const r = why ? { values: [] } : valuesOf(lookup(context, p.path), p.raw);
    if (r.error) errors.push(r.error);
    if (!r.values.length) missing.push(why ? `${p.raw} ${why}` : `${p.raw} has no value`);
    else if (p.path.keys[0] === "csr") fromCsr = true;
    return { values: r.values, join: p.join, fan: fanOut && p.join === undefined && r.values.length > 1 };
  });
  const fanIndex = resolved.findIndex((r) => "fan" in r && r.fan);
  const joined = resolved.map((r) => r.values.join(r.join ?? ","));
  const outputs =
    fanIndex < 0
      ? [joined.join("")]
      : resolved[fanIndex].values.slice(0, MAX_SANS_PER_FIELD).map((v) => joined.map((j, i) => (i === fanIndex ? v : j)).join(""));
  return { values: outputs.map((o) => o.trim()), errors, missing, fromCsr };
}

/**
 * The variables of a template that read `/csr/san/...` or `/device/...`: values an Apple device's
 * profile or its MDM record supply, which a standard ACME client proves nothing about.
 */
export function deviceVariables(template: RenderableTemplate): string[] {
  const found = new Set<string>();
  for (const field of ["subject", ...SAN_FIELDS.map(([f]) => f)] as const) {
    for (const p of parseTemplateString(template[field] ?? "").parts) {
      if (p.kind !== "path") continue;
      const [root, next] = p.path.keys;
      if (root === "device" || (root === "csr" && next === "san")) found.add(p.raw);
    }
  }
  return [...found];
}

/**
 * One way a template reaches a device at issuance: an Enrollment Policy whose Policy Workflow looks the
 * device up in a Core Platform (its mapped attribute names are `/device/<name>`), or a Device Management
 * Platform's defaults, which look nothing up (`attributes: null`).
 */
export interface TemplateSource {
  /** e.g. `Enrollment Policy "Kandji"`. */
  via: string;
  corePlatform: string | null;
  attributes: readonly string[] | null;
}

export interface UnsourcedVariable {
  /** As written, e.g. `${/device/userDescription}`. */
  variable: string;
  /** The ways the template is reached where nothing gives the variable a value, with why. */
  sources: { via: string; reason: string }[];
}

/**
 * The `/device/...` variables of a template that some way of reaching it never fills: `/device` holds
 * only the attributes the Core Platform's Attribute Mapping names (matched case-insensitively, as every
 * `${/path}` is), so anything else renders empty and its SAN is left out of real certificates.
 */
export function unsourcedDeviceVariables(template: RenderableTemplate, sources: readonly TemplateSource[]): UnsourcedVariable[] {
  const out = new Map<string, UnsourcedVariable>();
  for (const field of ["subject", ...SAN_FIELDS.map(([f]) => f)] as const) {
    for (const p of parseTemplateString(template[field] ?? "").parts) {
      if (p.kind !== "path" || p.path.keys[0] !== "device" || out.has(p.raw)) continue;
      const attribute = p.path.keys[1];
      const missing = sources.flatMap((s) => {
        if (s.attributes === null) return [{ via: s.via, reason: "it looks no device up, so /device is empty" }];
        if (attribute !== undefined && s.attributes.some((a) => a.toLowerCase() === attribute)) return [];
        return [{ via: s.via, reason: `Core Platform "${s.corePlatform}" maps no attribute named ${attribute ?? "(none)"}` }];
      });
      if (missing.length) out.set(p.raw, { variable: p.raw, sources: missing });
    }
  }
  return [...out.values()];
}

/** Checks a template string without a context: syntax, roots and, for Subject, the DN structure. */
export function checkTemplateField(field: keyof RenderableTemplate, text: string): string[] {
  if (field !== "subject") return parseTemplateString(text).errors;
  const { attributes, error } = splitDn(text);
  if (error) return [error];
  const errors: string[] = [];
  for (const a of attributes) {
    const parsed = parseTemplateString(a.rawValue);
    errors.push(...parsed.errors);
    // A value without variables is fixed: check it now rather than at the first enrollment.
    if (!parsed.errors.length && parsed.parts.every((p) => p.kind === "text")) {
      const e = makeAttribute(a.type, unescapeDnValue(a.rawValue)).error;
      if (e) errors.push(e);
    }
  }
  return errors;
}

export interface RenderOptions {
  /** False: `/csr/san/...` gives no value (the template does not allow SANs from the CSR). */
  csrSans?: boolean;
}

const CSR_SANS_WITHHELD = "is not used: the template does not take SANs from the CSR";

function renderSubject(text: string, context: TemplateContext, withheld: Withheld, out: RenderResult): DnAttribute[] {
  const err = (message: string) => out.errors.push({ field: "subject", message });
  const { attributes: raw, error } = splitDn(text);
  if (error) {
    err(error);
    return [];
  }
  const subject: DnAttribute[] = [];
  for (const a of raw) {
    const parsed = parseTemplateString(a.rawValue);
    parsed.errors.forEach(err);
    if (parsed.errors.length) continue;
    const r = renderParts(parsed.parts, context, false, withheld, unescapeDnValue);
    r.errors.forEach(err);
    const value = r.values[0] ?? "";
    const type = a.type.trim();
    const isCn = /^(cn|commonname|2\.5\.4\.3)$/i.test(type);
    // An attribute that renders empty is left out, like a SAN, except the Common Name: a certificate
    // whose CN variable was missing would otherwise look like every other device's. Text around a
    // variable without a value (e.g. "serial-") would be a value no device has: refused.
    if (!value && !isCn && (r.missing.length || makeAttribute(a.type, value).error)) {
      out.omitted.push({ field: "subject", reason: `${type} left out: ${r.missing.join(", ") || "it renders empty"}` });
      continue;
    }
    if (r.missing.length) {
      err(`Subject: ${type} ${value ? `would read "${value}"` : "renders empty"}: ${r.missing.join(", ")}`);
      continue;
    }
    const made = makeAttribute(a.type, value);
    if (!made.attribute) {
      err(value ? `Subject: ${made.error}` : `Subject: ${type} renders empty (${a.rawValue} has no value for this device)`);
      continue;
    }
    subject.push(made.attribute);
    if (r.fromCsr) out.fromCsr.push({ field: "subject", value: `${made.attribute.type}=${made.attribute.value}` });
  }
  if (!subject.length && !out.errors.some((e) => e.field === "subject")) err("Subject renders empty");
  return subject;
}

/**
 * Renders a template against a context into a subject and SANs, collecting every error. A SAN with
 * a variable that has no value is left out whole (never "urn:serial:"), and said so in `omitted`.
 */
export function renderTemplate(template: RenderableTemplate, context: TemplateContext, opts: RenderOptions = {}): RenderResult {
  const withheld: Withheld = (path) => (opts.csrSans === false && path.keys[0] === "csr" && path.keys[1] === "san" ? CSR_SANS_WITHHELD : undefined);
  const out: RenderResult = { subject: [], subjectDn: "", sans: [], errors: [], omitted: [], fromCsr: [] };
  out.subject = renderSubject(template.subject ?? "", context, withheld, out);
  out.subjectDn = formatDn(out.subject);
  for (const [field, type] of SAN_FIELDS) {
    const text = template[field];
    if (!text) continue;
    const parsed = parseTemplateString(text);
    for (const message of parsed.errors) out.errors.push({ field, message });
    if (parsed.errors.length) continue;
    const r = renderParts(parsed.parts, context, true, withheld);
    for (const message of r.errors) out.errors.push({ field, message });
    if (r.missing.length) {
      out.omitted.push({ field, reason: `${SAN_LABELS[type]} left out: ${r.missing.join(", ")}` });
      continue;
    }
    for (const value of r.values) {
      if (!value || out.sans.some((s) => s.type === type && s.value === value)) continue; // empty SANs are left out
      const san = { type, value };
      const bad = sanError(san);
      if (bad) out.errors.push({ field, message: bad });
      else {
        out.sans.push(san);
        if (r.fromCsr) out.fromCsr.push({ field, value });
      }
    }
  }
  return out;
}
