// Variables in a URI, an Expected result or a path filter: `${identity}` (the lookup key, e.g. the
// attested serial number) and `${/a/b}` (a path into the enrollment context, the same syntax as
// certificate templates: /attestation/serialNumber, /csr/subject/commonname, ...). One syntax only;
// anything else inside ${...} is an error, so a typo cannot silently render as empty.

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

type Part = { text: string } | { variable: "identity" } | { variable: "context"; path: string[]; raw: string };

const FORBIDDEN = new Set(["__proto__", "prototype", "constructor"]);
const CONTEXT_PATH = /^(\/[A-Za-z0-9_.-]+)+$/;

export function parseTemplate(template: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < template.length) {
    const at = template.indexOf("${", i);
    if (at < 0) {
      parts.push({ text: template.slice(i) });
      break;
    }
    if (at > i) parts.push({ text: template.slice(i, at) });
    const end = template.indexOf("}", at);
    if (end < 0) throw new TemplateError(`unclosed "\${" at position ${at + 1}`);
    const name = template.slice(at + 2, end).trim();
    if (name === "identity") parts.push({ variable: "identity" });
    else if (CONTEXT_PATH.test(name)) {
      const path = name.split("/").slice(1);
      const bad = path.find((p) => FORBIDDEN.has(p));
      if (bad) throw new TemplateError(`"${bad}" is not allowed in \${${name}}`);
      parts.push({ variable: "context", path, raw: name });
    } else throw new TemplateError(`unknown variable \${${name}}: use \${identity} or \${/path/in/context}`);
    i = end + 1;
  }
  return parts;
}

/** The form's check: null when valid, else why not. */
export function templateProblem(template: string): string | null {
  try {
    parseTemplate(template);
    return null;
  } catch (e) {
    if (e instanceof TemplateError) return e.message;
    throw e;
  }
}

function contextValue(context: Record<string, unknown> | undefined, path: string[], raw: string): string {
  let cur: unknown = context;
  for (const key of path) {
    if (cur === null || typeof cur !== "object" || !Object.prototype.hasOwnProperty.call(cur, key)) {
      throw new TemplateError(`\${${raw}} has no value`);
    }
    cur = (cur as Record<string, unknown>)[key];
  }
  if (typeof cur === "string") return cur;
  if (typeof cur === "number" || typeof cur === "boolean" || typeof cur === "bigint") return String(cur);
  throw new TemplateError(`\${${raw}} has no value`);
}

/** Renders variables; `encode` is applied to each substituted value (e.g. encodeURIComponent in a URI). */
export function renderTemplate(template: string, vars: TemplateVars, encode: (v: string) => string = (v) => v): string {
  return parseTemplate(template)
    .map((p) => {
      if ("text" in p) return p.text;
      if (p.variable === "identity") return encode(vars.identity);
      return encode(contextValue(vars.context, p.path, p.raw));
    })
    .join("");
}

/** The variables a template uses, normalized ("${identity}", "${/attestation/serialNumber}"); [] if invalid. */
export function templateVariables(template: string): string[] {
  try {
    return parseTemplate(template).flatMap((p) =>
      "text" in p ? [] : p.variable === "identity" ? [IDENTITY_VARIABLE] : [`\${${p.raw}}`],
    );
  } catch {
    return [];
  }
}

/** Whether the template uses any of the given variables (written "${identity}" or "${/a/b}"). */
export function templateUses(template: string, variables: readonly string[]): boolean {
  const used = templateVariables(template);
  return variables.some((v) => used.includes(v));
}
