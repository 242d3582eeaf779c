import { compilePath, type VariablePath } from "./path";
import { firstItem } from "./values";

// The one key rule of the `${/path}` language, in certificate templates, Security Signal Source
// lookup keys and Generic HTTP alike: a key matches case-insensitively (`/csr/subject/commonname`
// finds `commonName`; an exact match wins over another spelling), only own properties are read
// (never the prototype), and a list is entered by index (`/groups/0`) or else through its first
// non-empty item (`/csr/san/rfc822name` of a one-address SAN list).

type Obj = Record<string, unknown>;

function ownValue(obj: Obj, segment: string, key: string): unknown {
  if (Object.hasOwn(obj, segment)) return obj[segment];
  for (const k of Object.keys(obj)) if (k.length === key.length && k.toLowerCase() === key) return obj[k];
  return undefined;
}

/** The value at `path` in `context`, or undefined. Accepts a compiled path or its segments. */
export function lookup(context: unknown, path: VariablePath | readonly string[]): unknown {
  const p = "segments" in path ? path : compilePath(path as readonly string[]);
  if (p.forbidden !== undefined) return undefined;
  let cur = context;
  for (let i = 0; i < p.segments.length; i++) {
    if (cur === null || typeof cur !== "object") return undefined;
    if (Array.isArray(cur)) {
      const index = p.indexes[i];
      if (index !== undefined) {
        cur = index < cur.length ? cur[index] : undefined;
        continue;
      }
      cur = firstItem(cur);
      if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    }
    cur = ownValue(cur as Obj, p.segments[i], p.keys[i]);
  }
  return cur;
}
