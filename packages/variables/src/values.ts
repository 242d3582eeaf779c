// What a variable's value is: text, numbers and booleans written out, dates in ISO 8601; a list is
// several values. The one list rule: a single value is the first non-empty item, and a caller that
// fans out (certificate SANs) or joins (`|join:`) takes all items.

/** A scalar as text; undefined for anything else (objects, lists, null, invalid dates). */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "bigint" || typeof v === "boolean") return String(v);
  if (v instanceof Date && !Number.isNaN(v.getTime())) return v.toISOString();
  return undefined;
}

/** Why a value cannot be written out: it is an object, or a list holding one. */
export type NotAValue = "object" | "objectList";

export type AllValues = { values: string[]; notAValue?: undefined } | { values: []; notAValue: NotAValue };

/** Every value: none when absent, one for a scalar, each item of a list (null items skipped). */
export function allValues(v: unknown): AllValues {
  if (v === undefined || v === null) return { values: [] };
  const s = scalarText(v);
  if (s !== undefined) return { values: [s] };
  if (!Array.isArray(v)) return { values: [], notAValue: "object" };
  const values: string[] = [];
  for (const item of v) {
    if (item === undefined || item === null) continue;
    const si = scalarText(item);
    if (si === undefined) return { values: [], notAValue: "objectList" };
    values.push(si);
  }
  return { values };
}

const hasText = (v: unknown) => {
  const t = scalarText(v);
  return t !== undefined && t.trim() !== "";
};

/** The item a path goes through when it steps into a list without an index: the first non-blank value or object. */
export function firstItem(list: readonly unknown[]): unknown {
  return list.find((item) => (item !== null && typeof item === "object") || hasText(item));
}

/** One value: a scalar as is (even empty), or the first non-blank value of a list; undefined for none or an object. */
export function firstValue(v: unknown): string | undefined {
  return scalarText(Array.isArray(v) ? v.find(hasText) : v);
}
