import { firstValue, lookup, parseVariables, type Part, type SyntaxProblem } from "@attested/variables";

// Variables in a URI, an Expected result or a path filter: `${identity}` (the lookup key, e.g. the
// attested serial number) and `${/a/b}` (a path into the enrollment context, the same language as
// certificate templates: /attestation/serialNumber, /csr/subject/commonname, ...). Syntax, key rule
// (case-insensitive, own properties only) and list rule (the first non-empty item) are
// @attested/variables'. Anything else inside ${...} is an error, so a typo cannot silently render as empty.

export interface TemplateVars {
  identity: string;
  context?: Record<string, unknown>;
}

export const IDENTITY_VARIABLE = "${identity}";

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateError";
  }
}

const SYNTAX = { identity: true } as const;

function problemMessage(p: SyntaxProblem): string {
  switch (p.kind) {
    case "unclosed":
      return `unclosed "\${" at position ${p.position}`;
    case "forbidden":
      return `"${p.segment}" is not allowed in \${${p.name}}`;
    default:
      return `unknown variable \${${p.name}}: use \${identity} or \${/path/in/context}`;
  }
}

/** The template's parts; throws TemplateError at its first problem. */
export function parseTemplate(template: string): readonly Part[] {
  const { parts, problems } = parseVariables(template, SYNTAX);
  if (problems.length) throw new TemplateError(problemMessage(problems[0]!));
  return parts;
}

/** The form's check: null when valid, else why not. */
export function templateProblem(template: string): string | null {
  const { problems } = parseVariables(template, SYNTAX);
  return problems.length ? problemMessage(problems[0]!) : null;
}

/** Renders variables; `encode` is applied to each substituted value (e.g. encodeURIComponent in a URI). */
export function renderTemplate(template: string, vars: TemplateVars, encode: (v: string) => string = (v) => v): string {
  return parseTemplate(template)
    .map((p) => {
      if (p.kind === "text") return p.text;
      if (p.kind === "identity") return encode(vars.identity);
      const value = firstValue(lookup(vars.context, p.path));
      if (value === undefined) throw new TemplateError(`\${${p.name}} has no value`);
      return encode(value);
    })
    .join("");
}

/** The variables a template uses, normalized ("${identity}", "${/attestation/serialNumber}"); [] if invalid. */
export function templateVariables(template: string): string[] {
  const { parts, problems } = parseVariables(template, SYNTAX);
  if (problems.length) return [];
  return parts.flatMap((p) => (p.kind === "text" ? [] : p.kind === "identity" ? [IDENTITY_VARIABLE] : [`\${${p.name}}`]));
}

/**
 * Whether the template uses any of the given variables (written "${identity}" or "${/a/b}"). Paths
 * compare case-insensitively, as their keys match: ${/attestation/serialnumber} is the serial too.
 */
export function templateUses(template: string, variables: readonly string[]): boolean {
  const used = new Set(templateVariables(template).map((v) => v.toLowerCase()));
  return variables.some((v) => used.has(v.toLowerCase()));
}
