import { safeMatch, type Attributes } from "@attested/integrations";
import { CONDITION_OPERATORS } from "./options";
import type { WorkflowCondition } from "./schemas";

// A Policy Workflow's Attributes/Groups conditions, tested against what the device lookup mapped.
// No conditions means ANY. Every condition must pass. On a list (an attribute mapped from an array,
// or the groups) Equals / Contains / Matches pass when one item does, and Not equals passes when no
// item equals the value. A missing attribute fails every condition except Not exists, so a renamed
// field fails closed.

export interface ConditionResult {
  condition: WorkflowCondition;
  passed: boolean;
  /** What was tested (the attribute's value or the groups), as text. */
  actual: string | null;
  message: string;
}

const label = (op: string) => CONDITION_OPERATORS.find((o) => o.value === op)?.label ?? op;
const show = (v: string[]) => (v.length === 1 ? JSON.stringify(v[0]) : JSON.stringify(v));

export function describeCondition(c: WorkflowCondition): string {
  const subject = c.kind === "group" ? "Groups" : c.attribute!;
  return `${subject} ${label(c.operator).toLowerCase()}${c.value !== undefined ? ` ${JSON.stringify(c.value)}` : ""}`;
}

export function evaluateCondition(c: WorkflowCondition, attributes: Attributes, groups: string[]): ConditionResult {
  const raw = c.kind === "group" ? groups : Object.hasOwn(attributes, c.attribute!) ? attributes[c.attribute!] : undefined;
  const values = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const present = values.length > 0;
  const what = describeCondition(c);
  const actual = present ? show(values) : null;
  const done = (passed: boolean, why?: string): ConditionResult => ({
    condition: c,
    passed,
    actual,
    message: passed ? what : `${what}: ${why ?? (present ? `actual ${actual}` : c.kind === "group" ? "no groups" : "no value")}`,
  });
  const expected = c.value ?? "";
  switch (c.operator) {
    case "exists":
      return done(present);
    case "notExists":
      return done(!present);
    case "equals":
      return done(present && values.includes(expected));
    case "notEquals":
      return done(present && !values.includes(expected));
    case "contains":
      return done(present && values.some((v) => v.includes(expected)));
    case "matches": {
      if (!present) return done(false);
      for (const v of values) {
        const m = safeMatch(expected, v);
        if (!m.ok) return done(false, m.error);
        if (m.matched) return done(true);
      }
      return done(false);
    }
    default:
      return done(false, "unknown condition");
  }
}

export function evaluateConditions(conditions: readonly WorkflowCondition[], attributes: Attributes, groups: string[]): ConditionResult[] {
  return conditions.map((c) => evaluateCondition(c, attributes, groups));
}
