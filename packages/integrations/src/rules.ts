import { evaluatePath, parsePath, pathFiltersOn, PathError, type ResponseView } from "./paths";
import { safeMatch } from "./regex";
import { IDENTITY_VARIABLE, renderTemplate, TemplateError, templateUses, type TemplateVars } from "./template";

// Response Validation: each rule reads one response path and checks it. All rules must pass for the
// lookup to find the device. Comparisons (equals, notEquals, contains, matches) fail when the path
// does not resolve, so a renamed or missing field fails closed instead of passing a negative check.

export const CONDITIONS = ["exists", "notExists", "equals", "notEquals", "contains", "matches"] as const;
export type Condition = (typeof CONDITIONS)[number];

/** Labels for the Condition drop-down. */
export const CONDITION_LABELS: Record<Condition, string> = {
  exists: "Exists",
  notExists: "Does Not Exist",
  equals: "Equals",
  notEquals: "Does Not Equal",
  contains: "Contains",
  matches: "Matches (regular expression)",
};

/** Conditions that compare against Expected result (which is then required). */
export const COMPARISONS: ReadonlySet<Condition> = new Set(["equals", "notEquals", "contains", "matches"]);

export interface ValidationRule {
  path: string;
  condition: Condition;
  expected?: string;
}

export interface RuleResult {
  rule: ValidationRule;
  passed: boolean;
  /** The value found at the path, as text (null when the path did not resolve). */
  actual: string | null;
  message: string;
}

const SHOW = 120;
const quote = (s: string) => JSON.stringify(s.length > SHOW ? `${s.slice(0, SHOW)}…` : s);

/** Text form of a response value: strings as-is, numbers and booleans as JSON writes them. */
export function valueText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === undefined) return "";
  return JSON.stringify(v) ?? String(v);
}

/** Absent for Exists means: missing, null or "" (Kandji writes "" for unset fields such as user). */
const isPresent = (v: unknown) => v !== undefined && v !== null && v !== "";

export function evaluateRule(rule: ValidationRule, view: ResponseView, vars: TemplateVars): RuleResult {
  const head = `${rule.path} ${rule.condition}`;
  const result = (passed: boolean, actual: string | null, message: string): RuleResult => ({ rule, passed, actual, message });
  let expected = "";
  try {
    if (COMPARISONS.has(rule.condition)) {
      if (rule.expected === undefined || rule.expected === "") return result(false, null, `${head}: Expected result is empty`);
      expected = renderTemplate(rule.expected, vars);
    }
    const found = evaluatePath(view, rule.path, vars);
    const actual = found.found ? valueText(found.value) : null;
    const present = found.found && isPresent(found.value);
    const what = `${head}${COMPARISONS.has(rule.condition) ? ` ${quote(expected)}` : ""}`;
    const got = found.found ? `actual ${quote(actual!)}` : found.reason;

    switch (rule.condition) {
      case "exists":
        return result(present, actual, present ? what : `${what}: ${found.found ? `value is ${quote(actual!)}` : found.reason}`);
      case "notExists":
        return result(!present, actual, present ? `${what}: ${got}` : what);
      case "equals":
      case "notEquals": {
        if (!found.found) return result(false, null, `${what}: ${found.reason}`);
        const same = actual === expected;
        const passed = rule.condition === "equals" ? same : !same;
        return result(passed, actual, passed ? what : `${what}: ${got}`);
      }
      case "contains": {
        if (!found.found) return result(false, null, `${what}: ${found.reason}`);
        // On a list (e.g. tags) an item must equal Expected; on text it is a substring test.
        const passed = Array.isArray(found.value) ? found.value.some((x) => valueText(x) === expected) : actual!.includes(expected);
        return result(passed, actual, passed ? what : `${what}: ${got}`);
      }
      case "matches": {
        if (!found.found) return result(false, null, `${what}: ${found.reason}`);
        const m = safeMatch(expected, actual!);
        if (!m.ok) return result(false, actual, `${what}: ${m.error}`);
        return result(m.matched, actual, m.matched ? what : `${what}: ${got}`);
      }
      default:
        return result(false, actual, `${head}: unknown condition`);
    }
  } catch (e) {
    if (e instanceof PathError || e instanceof TemplateError) return result(false, null, `${head}: ${e.message}`);
    throw e;
  }
}

export function evaluateRules(rules: readonly ValidationRule[], view: ResponseView, vars: TemplateVars): RuleResult[] {
  return rules.map((r) => evaluateRule(r, view, vars));
}

/**
 * Whether the rules tie the response to the identity exactly: an Equals rule on a `data` path whose
 * Expected result holds the identity variable, or any positive rule whose path filters an array on
 * it (data[serial_number=${identity}]). Without that, Kandji's partial serial_number match can
 * return another device (ABC1 matches ABC12), and the portal should warn.
 * `identityVariables` are the spellings that stand for the identity, e.g. also "${/attestation/serialNumber}"
 * when that is the Security Signal Source's identity attribute.
 */
export function rulesPinIdentity(rules: readonly ValidationRule[], identityVariables: readonly string[] = [IDENTITY_VARIABLE]): boolean {
  return rules.some((r) => {
    let parsed: ReturnType<typeof parsePath>;
    try {
      parsed = parsePath(r.path);
    } catch {
      return false;
    }
    if (parsed.root !== "data") return false;
    if (r.condition === "equals" && r.expected && templateUses(r.expected, identityVariables)) return true;
    return r.condition !== "notExists" && r.condition !== "notEquals" && pathFiltersOn(parsed, identityVariables);
  });
}

/** The warning the portal shows when rulesPinIdentity is false. */
export const UNPINNED_WARNING =
  "No rule compares the response to ${identity} exactly. Kandji matches serial_number partially, so another device " +
  "whose serial contains this one could pass: add an Equals rule such as data[0].serial_number = ${identity}, " +
  "or read the device with a filter path such as data[serial_number=${identity}].";
