// A variable's path, `/root/key/...`: one segment per key of the context, or an index into a list.
// Paths are compiled once when a text is parsed, so a lookup compares lower-cased keys and never
// runs a regular expression.

/** Keys that reach an object's prototype when written: refused in every path. */
export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(["__proto__", "prototype", "constructor"]);

export interface VariablePath {
  /** The segments as written. */
  readonly segments: readonly string[];
  /** The segments lower-cased: keys match case-insensitively. */
  readonly keys: readonly string[];
  /** The list index a segment of digits names, else undefined. */
  readonly indexes: readonly (number | undefined)[];
  /** A segment is one of FORBIDDEN_SEGMENTS (in any case): the path has no value. */
  readonly forbidden: string | undefined;
}

const MAX_INDEX_DIGITS = 9;

function indexOf(segment: string): number | undefined {
  if (segment.length === 0 || segment.length > MAX_INDEX_DIGITS) return undefined;
  for (let i = 0; i < segment.length; i++) {
    const c = segment.charCodeAt(i);
    if (c < 48 || c > 57) return undefined;
  }
  return Number(segment);
}

export function compilePath(segments: readonly string[]): VariablePath {
  const keys = segments.map((s) => s.toLowerCase());
  return { segments, keys, indexes: segments.map(indexOf), forbidden: segments[keys.findIndex((k) => FORBIDDEN_SEGMENTS.has(k))] };
}

/** A segment's characters: letters, digits and `_ . @ -` (e.g. `2.5.4.3`, `rfc822name`, `user@x`). */
export function isSegment(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ok =
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 /* _ */ || c === 46 /* . */ || c === 64 /* @ */ || c === 45; /* - */
    if (!ok) return false;
  }
  return true;
}

/** What a caller allows in a path. */
export interface PathRules {
  /** The first segment must be one of these (case-insensitive); any root when absent. */
  readonly roots?: readonly string[];
  /** Fewest segments (1): templates ask for 2, since a root alone is an object, not a value. */
  readonly minSegments?: number;
  /** Most segments (no limit). */
  readonly maxSegments?: number;
}

export type PathProblem = { kind: "syntax" } | { kind: "forbidden"; segment: string } | { kind: "unknownRoot"; root: string };

export type ParsedPath = { ok: true; path: VariablePath } | { ok: false; problem: PathProblem };

/** Parses `/a/b/c` (no empty segments, no surrounding space) and checks it against the caller's rules. */
export function parsePath(text: string, rules: PathRules = {}): ParsedPath {
  if (!text.startsWith("/")) return { ok: false, problem: { kind: "syntax" } };
  const segments = text.slice(1).split("/");
  const { minSegments = 1, maxSegments = Infinity } = rules;
  if (segments.length < minSegments || segments.length > maxSegments || !segments.every(isSegment)) return { ok: false, problem: { kind: "syntax" } };
  const path = compilePath(segments);
  if (path.forbidden !== undefined) return { ok: false, problem: { kind: "forbidden", segment: path.forbidden } };
  if (rules.roots && !rules.roots.some((r) => r.toLowerCase() === path.keys[0])) return { ok: false, problem: { kind: "unknownRoot", root: segments[0] } };
  return { ok: true, path };
}
