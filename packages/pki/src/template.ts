import { makeAttribute, formatDn, splitDn, unescapeDnValue, type DnAttribute } from "./dn";
import type { PkiFieldError } from "./errors";
import { sanError, type San, type SanType } from "./san";

// The `${/path}` variable language of certificate templates (SPEC §2, guide "Creating a Certificate
// Template"): `${/csr/subject/commonname}`, `${/attestation/serialNumber}`, `${/device/userDescription}`.
// Keys are matched case-insensitively; `${/device/groups|join:;}` joins a list with ";" (default ",").
// In a SAN field a list without `|join:` gives one SAN per value.

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
}

type Part = { kind: "text"; text: string } | { kind: "var"; raw: string; path: string[]; join?: string };

const SEGMENT = /^[A-Za-z0-9_.@-]+$/;
const MAX_SANS_PER_FIELD = 100;

/** Splits a template string into text and variables, reporting syntax errors and unknown roots. */
export function parseTemplateString(text: string): { parts: Part[]; errors: string[] } {
  const parts: Part[] = [];
  const errors: string[] = [];
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf("${", i);
    if (start < 0) {
      parts.push({ kind: "text", text: text.slice(i) });
      break;
    }
    if (start > i) parts.push({ kind: "text", text: text.slice(i, start) });
    const end = text.indexOf("}", start);
    if (end < 0) {
      errors.push(`Unclosed "\${" at position ${start + 1}`);
      break;
    }
    const raw = text.slice(start, end + 1);
    const body = raw.slice(2, -1);
    const bar = body.indexOf("|");
    const pathText = (bar < 0 ? body : body.slice(0, bar)).trim();
    const modifier = bar < 0 ? undefined : body.slice(bar + 1);
    const join = modifier !== undefined && /^\s*join:/.test(modifier) ? modifier.replace(/^\s*join:/, "") : undefined;
    const segments = pathText.split("/").slice(1);
    if (!pathText.startsWith("/") || segments.length < 2 || !segments.every((s) => SEGMENT.test(s))) {
      errors.push(`${raw} is not a variable: write a path such as \${/csr/subject/commonname}`);
    } else if (!(VARIABLE_ROOTS as readonly string[]).includes(segments[0].toLowerCase())) {
      errors.push(`${raw} has an unknown root "/${segments[0]}": use ${VARIABLE_ROOTS.map((r) => "/" + r).join(", ")}`);
    } else if (modifier !== undefined && join === undefined) {
      errors.push(`${raw}: the only modifier is |join:<separator>`);
    } else {
      parts.push({ kind: "var", raw, path: segments, join });
    }
    i = end + 1;
  }
  return { parts, errors };
}

/** Looks a path up in the context, matching keys case-insensitively and own properties only. */
export function lookup(context: unknown, path: string[]): unknown {
  let cur: unknown = context;
  for (const seg of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    if (Array.isArray(cur)) {
      cur = /^\d+$/.test(seg) ? cur[Number(seg)] : undefined;
      continue;
    }
    const obj = cur as Record<string, unknown>;
    const key = Object.hasOwn(obj, seg) ? seg : Object.keys(obj).find((k) => k.toLowerCase() === seg.toLowerCase());
    cur = key === undefined ? undefined : obj[key];
  }
  return cur;
}

function scalar(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Date && !isNaN(v.getTime())) return v.toISOString();
  return undefined;
}

/** A variable's values: none when absent, one for a scalar, several for a list. */
function valuesOf(v: unknown, raw: string): { values: string[]; error?: string } {
  if (v === undefined || v === null) return { values: [] };
  const s = scalar(v);
  if (s !== undefined) return { values: [s] };
  if (Array.isArray(v)) {
    const values: string[] = [];
    for (const item of v) {
      if (item === undefined || item === null) continue;
      const si = scalar(item);
      if (si === undefined) return { values: [], error: `${raw} holds a list of objects, not of values` };
      values.push(si);
    }
    return { values };
  }
  return { values: [], error: `${raw} refers to an object, not a value: name one of its fields` };
}

/**
 * Renders parsed parts. With `fanOut`, the first list-valued variable without `|join:` yields one
 * result per value; otherwise lists are joined. `text` maps literal text (e.g. DN unescaping).
 */
function renderParts(
  parts: Part[],
  context: TemplateContext,
  fanOut: boolean,
  text: (t: string) => string = (t) => t,
): { values: string[]; errors: string[] } {
  const errors: string[] = [];
  const resolved = parts.map((p) => {
    if (p.kind === "text") return { values: [text(p.text)], join: "" };
    const r = valuesOf(lookup(context, p.path), p.raw);
    if (r.error) errors.push(r.error);
    return { values: r.values, join: p.join, fan: fanOut && p.join === undefined && r.values.length > 1 };
  });
  const fanIndex = resolved.findIndex((r) => "fan" in r && r.fan);
  const joined = resolved.map((r) => r.values.join(r.join ?? ","));
  const outputs =
    fanIndex < 0
      ? [joined.join("")]
      : resolved[fanIndex].values.slice(0, MAX_SANS_PER_FIELD).map((v) => joined.map((j, i) => (i === fanIndex ? v : j)).join(""));
  return { values: outputs.map((o) => o.trim()), errors };
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

function renderSubject(text: string, context: TemplateContext, errors: PkiFieldError[]): DnAttribute[] {
  const err = (message: string) => errors.push({ field: "subject", message });
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
    const { values, errors: e } = renderParts(parsed.parts, context, false, unescapeDnValue);
    e.forEach(err);
    const value = values[0] ?? "";
    const made = makeAttribute(a.type, value);
    // An attribute that renders empty is left out, like a SAN, except the Common Name: a certificate
    // whose CN variable was missing would otherwise look like every other device's.
    if (!value && made.error && !/^(cn|commonname|2\.5\.4\.3)$/i.test(a.type.trim())) continue;
    if (made.attribute) subject.push(made.attribute);
    else err(value ? `Subject: ${made.error}` : `Subject: ${a.type.trim()} renders empty (${a.rawValue} has no value for this device)`);
  }
  if (!subject.length && !errors.some((e) => e.field === "subject")) err("Subject renders empty");
  return subject;
}

/** Renders a template against a context into a subject and SANs, collecting every error. */
export function renderTemplate(template: RenderableTemplate, context: TemplateContext): RenderResult {
  const errors: PkiFieldError[] = [];
  const subject = renderSubject(template.subject ?? "", context, errors);
  const sans: San[] = [];
  for (const [field, type] of SAN_FIELDS) {
    const text = template[field];
    if (!text) continue;
    const parsed = parseTemplateString(text);
    parsed.errors.forEach((message) => errors.push({ field, message }));
    if (parsed.errors.length) continue;
    const { values, errors: e } = renderParts(parsed.parts, context, true);
    e.forEach((message) => errors.push({ field, message }));
    for (const value of values) {
      if (!value || sans.some((s) => s.type === type && s.value === value)) continue; // empty SANs are left out
      const san = { type, value };
      const bad = sanError(san);
      if (bad) errors.push({ field, message: bad });
      else sans.push(san);
    }
  }
  return { subject, subjectDn: formatDn(subject), sans, errors };
}
