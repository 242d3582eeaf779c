import { evaluatePath, PathError, type ResponseView } from "./paths";
import { TemplateError, type TemplateVars } from "./template";

// Attribute Mapping: response path -> attribute name. Attributes become /device/<name> in
// certificate templates and can be tested by Policy Workflow conditions. Groups come from one or
// more paths (comma separated), e.g. "data[0].blueprint_name, data[0].tags".

export interface AttributeMapping {
  path: string;
  attribute: string;
}

export type AttributeValue = string | string[];
export type Attributes = Record<string, AttributeValue>;

/** Attribute names: usable as a /device/<name> template path segment. */
export const ATTRIBUTE_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
export const MAX_GROUPS = 100;
const MAX_TEXT = 1024;

/** One scalar as text; an object yields its `name` (Kandji user, blueprint objects), else nothing. */
function scalarText(v: unknown): string | undefined {
  if (typeof v === "string") return v === "" ? undefined : v.slice(0, MAX_TEXT);
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v !== null && typeof v === "object" && !Array.isArray(v)) {
    const name = (v as Record<string, unknown>).name;
    if (Object.hasOwn(v, "name") && typeof name === "string" && name !== "") return name.slice(0, MAX_TEXT);
  }
  return undefined;
}

/** Text or list of texts; undefined for missing, null, "" or an object without a name. */
export function attributeValue(v: unknown): AttributeValue | undefined {
  if (Array.isArray(v)) return v.map(scalarText).filter((x): x is string => x !== undefined);
  return scalarText(v);
}

export interface MappingResult {
  attributes: Attributes;
  /** Mapped attributes that had no value in the response, with why (for the Validate display). */
  missing: Array<{ attribute: string; path: string; reason: string }>;
}

export function mapAttributes(mappings: readonly AttributeMapping[], view: ResponseView, vars: TemplateVars): MappingResult {
  // A null-prototype object: an attribute named like an Object.prototype member stays plain data.
  const attributes = Object.create(null) as Attributes;
  const missing: MappingResult["missing"] = [];
  for (const m of mappings) {
    try {
      const r = evaluatePath(view, m.path, vars);
      const value = r.found ? attributeValue(r.value) : undefined;
      if (value === undefined) missing.push({ attribute: m.attribute, path: m.path, reason: r.found ? "no value" : r.reason });
      else attributes[m.attribute] = value;
    } catch (e) {
      if (!(e instanceof PathError || e instanceof TemplateError)) throw e;
      missing.push({ attribute: m.attribute, path: m.path, reason: e.message });
    }
  }
  return { attributes: { ...attributes }, missing };
}

/** Splits the Groups field on commas outside brackets and quotes. */
export function splitGroupsPaths(groupsPath: string | null | undefined): string[] {
  if (!groupsPath) return [];
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let cur = "";
  for (const c of groupsPath) {
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === "[") depth++;
    else if (c === "]") depth = Math.max(0, depth - 1);
    else if (c === "," && depth === 0) {
      out.push(cur.trim());
      cur = "";
      continue;
    }
    cur += c;
  }
  out.push(cur.trim());
  return out.filter(Boolean);
}

/** Group names from the Groups paths: strings, lists of strings, or objects / lists of objects with a name. */
export function extractGroups(groupsPath: string | null | undefined, view: ResponseView, vars: TemplateVars): string[] {
  const groups = new Set<string>();
  for (const path of splitGroupsPaths(groupsPath)) {
    try {
      const r = evaluatePath(view, path, vars);
      if (!r.found) continue;
      const v = attributeValue(r.value);
      for (const g of v === undefined ? [] : Array.isArray(v) ? v : [v]) {
        if (groups.size >= MAX_GROUPS) break;
        groups.add(g);
      }
    } catch (e) {
      if (!(e instanceof PathError || e instanceof TemplateError)) throw e;
    }
  }
  return [...groups];
}
