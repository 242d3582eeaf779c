// The lookup key of a Security Signal Source is a path into the lookup context: at enrollment
// { attestation, csr, account, platform }, at RADIUS time { certificate }. Keys match
// case-insensitively (as template variables do: /csr/subject/commonname finds commonName), only
// own properties are read, and a list yields its first non-empty item (a SAN list).

const FORBIDDEN = new Set(["__proto__", "prototype", "constructor"]);

export function splitPath(path: string): string[] {
  return path.split("/").filter(Boolean);
}

function text(v: unknown): string | undefined {
  if (typeof v === "string") return v.trim() === "" ? undefined : v.trim();
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return undefined;
}

/** The text at `path` in `context`, or undefined when there is none. */
export function resolveIdentity(context: Record<string, unknown>, path: string): string | undefined {
  let cur: unknown = context;
  for (const seg of splitPath(path)) {
    if (FORBIDDEN.has(seg)) return undefined;
    if (Array.isArray(cur)) cur = cur.find((x) => text(x) !== undefined || (x && typeof x === "object"));
    if (cur === null || typeof cur !== "object" || Array.isArray(cur)) return undefined;
    const obj = cur as Record<string, unknown>;
    const key = Object.hasOwn(obj, seg) ? seg : Object.keys(obj).find((k) => k.toLowerCase() === seg.toLowerCase());
    cur = key === undefined ? undefined : obj[key];
  }
  if (Array.isArray(cur)) return cur.map(text).find((x) => x !== undefined);
  return text(cur);
}

/** A context holding `value` at `path`: what "Validate Configuration" looks up with a typed identity. */
export function contextWith(path: string, value: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let cur = root;
  const segs = splitPath(path).filter((s) => !FORBIDDEN.has(s));
  segs.forEach((seg, i) => {
    if (i === segs.length - 1) cur[seg] = value;
    else cur = (cur[seg] = {}) as Record<string, unknown>;
  });
  return root;
}

/** The spellings that stand for the identity in rules: ${identity} and ${<the attribute path>}. */
export const identityVariables = (path: string) => ["${identity}", `\${${path}}`];
