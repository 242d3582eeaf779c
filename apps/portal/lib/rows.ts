import { ZodError } from "zod";

// Lists edited as rows (Response Validation rules, Attribute Mapping, Attributes/Groups conditions)
// are posted as `prefix.N.field`. Their field errors come back under the same names, so each
// message lands beside its input.

/** The rows posted under `prefix`, in index order; empty strings become undefined. */
export function rowsFromInput(input: Record<string, string>, prefix: string, fields: readonly string[]): Record<string, string | undefined>[] {
  const rows = new Map<number, Record<string, string | undefined>>();
  const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\.(\\d{1,3})\\.(\\w+)$`);
  for (const [k, v] of Object.entries(input)) {
    const m = re.exec(k);
    if (!m || !fields.includes(m[2]!)) continue;
    const i = Number(m[1]);
    const row = rows.get(i) ?? {};
    row[m[2]!] = v === "" ? undefined : v;
    rows.set(i, row);
  }
  return [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
}

/**
 * Drops rows `keep` refuses (e.g. an Attribute left at ANY) and runs `fn` on the rest; field errors
 * are mapped back to the posted row numbers.
 */
export async function withKeptRows<R, T>(rows: R[], keep: (r: R) => boolean, prefix: string, fn: (kept: R[]) => Promise<T>): Promise<T> {
  const index: number[] = [];
  for (const [i, r] of rows.entries()) if (keep(r)) index.push(i);
  try {
    return await fn(index.map((i) => rows[i]!));
  } catch (e) {
    if (!(e instanceof ZodError)) throw e;
    for (const issue of e.issues) {
      if (issue.path[0] === prefix && typeof issue.path[1] === "number") issue.path[1] = index[issue.path[1]] ?? issue.path[1];
    }
    throw e;
  }
}
