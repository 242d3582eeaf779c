import { FORBIDDEN_SEGMENTS, firstValue, lookup } from "@attested/variables";

// The lookup key of a Security Signal Source is a path into the lookup context: at enrollment
// { attestation, csr, account, platform }, at RADIUS time { certificate }. It reads the context as
// every `${/path}` does (@attested/variables): keys match case-insensitively (/csr/subject/commonname
// finds commonName), only own properties are read, and a list yields its first non-empty item (a SAN list).

export function splitPath(path: string): string[] {
  return path.split("/").filter(Boolean);
}

/** The text at `path` in `context`, trimmed, or undefined when there is none (blank text is none). */
export function resolveIdentity(context: Record<string, unknown>, path: string): string | undefined {
  const value = firstValue(lookup(context, splitPath(path)))?.trim();
  return value ? value : undefined;
}

/** A context holding `value` at `path`: what "Validate Configuration" looks up with a typed identity. */
export function contextWith(path: string, value: string): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let cur = root;
  const segs = splitPath(path).filter((s) => !FORBIDDEN_SEGMENTS.has(s.toLowerCase()));
  segs.forEach((seg, i) => {
    if (i === segs.length - 1) cur[seg] = value;
    else cur = (cur[seg] = {}) as Record<string, unknown>;
  });
  return root;
}

/** The spellings that stand for the identity in rules: ${identity} and ${<the attribute path>}. */
export const identityVariables = (path: string) => ["${identity}", `\${${path}}`];
