import { parsePath, type PathRules, type VariablePath } from "./path";

// The `${...}` syntax: literal text with variables in it. `${/a/b}` names a path into the context;
// `${identity}` the lookup key, where the caller allows it (Generic HTTP); `${/a/b|join:;}` joins a
// list, where the caller allows it (certificate templates). Problems are returned as data, so each
// caller words them in its own form's language. Linear in the text: one scan, no backtracking.

export interface SyntaxOptions extends PathRules {
  /** `${identity}` is a variable (a Generic HTTP URI, Expected result or path filter). */
  readonly identity?: boolean;
  /** `${/path|join:<separator>}` is allowed (certificate templates). */
  readonly join?: boolean;
}

/** Parts are shared between renders (see parseVariables): read-only. */
export type Part =
  | { readonly kind: "text"; readonly text: string }
  | { readonly kind: "identity"; readonly raw: string }
  /** `name` is the path as written, trimmed; `join` the separator of `|join:`, if given. */
  | { readonly kind: "path"; readonly raw: string; readonly name: string; readonly path: VariablePath; readonly join?: string };

export type PathPart = Extract<Part, { kind: "path" }>;

export type SyntaxProblem =
  /** `${` without a `}`; `position` counts from 1. Nothing after it is parsed. */
  | { kind: "unclosed"; position: number }
  /** Neither a path nor an allowed name; `name` is what stood inside `${...}` (before `|`), trimmed. */
  | { kind: "notAVariable"; raw: string; name: string }
  | { kind: "forbidden"; raw: string; name: string; segment: string }
  | { kind: "unknownRoot"; raw: string; name: string; root: string }
  /** A `|` modifier other than `join:`. */
  | { kind: "badModifier"; raw: string; name: string };

export interface Parsed {
  readonly parts: readonly Part[];
  readonly problems: readonly SyntaxProblem[];
}

const NO_OPTIONS: SyntaxOptions = {};

const JOIN = "join:";

function variable(raw: string, options: SyntaxOptions): Exclude<Part, { kind: "text" }> | SyntaxProblem {
  const body = raw.slice(2, -1);
  const bar = options.join ? body.indexOf("|") : -1;
  const name = (bar < 0 ? body : body.slice(0, bar)).trim();
  if (options.identity && name === "identity") return { kind: "identity", raw };
  const parsed = parsePath(name, options);
  if (!parsed.ok) {
    const p = parsed.problem;
    if (p.kind === "forbidden") return { kind: "forbidden", raw, name, segment: p.segment };
    if (p.kind === "unknownRoot") return { kind: "unknownRoot", raw, name, root: p.root };
    return { kind: "notAVariable", raw, name };
  }
  if (bar < 0) return { kind: "path", raw, name, path: parsed.path };
  const modifier = body.slice(bar + 1).trimStart();
  if (!modifier.startsWith(JOIN)) return { kind: "badModifier", raw, name };
  return { kind: "path", raw, name, path: parsed.path, join: modifier.slice(JOIN.length) };
}

function parse(text: string, options: SyntaxOptions): Parsed {
  const parts: Part[] = [];
  const problems: SyntaxProblem[] = [];
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf("${", i);
    if (start < 0) {
      parts.push(Object.freeze({ kind: "text", text: text.slice(i) }));
      break;
    }
    if (start > i) parts.push(Object.freeze({ kind: "text", text: text.slice(i, start) }));
    const end = text.indexOf("}", start);
    if (end < 0) {
      problems.push({ kind: "unclosed", position: start + 1 });
      break;
    }
    const v = variable(text.slice(start, end + 1), options);
    if (v.kind === "identity" || v.kind === "path") parts.push(Object.freeze(v));
    else problems.push(v);
    i = end + 1;
  }
  return { parts: Object.freeze(parts), problems: Object.freeze(problems) };
}

// The same few texts (a template's fields, a Core Platform's URI and rules) are rendered at every
// enrollment: each is parsed once per options object. Bounded: short texts only, and the cache
// starts over when full.
const CACHEABLE_LENGTH = 4096;
const CACHE_ENTRIES = 1000;
const caches = new WeakMap<SyntaxOptions, Map<string, Parsed>>();

/**
 * Splits text into literal parts and variables, collecting every problem (parsing stops at an
 * unclosed `${`). The result is shared and frozen: pass the same options object to reuse it.
 */
export function parseVariables(text: string, options: SyntaxOptions = NO_OPTIONS): Parsed {
  if (text.length > CACHEABLE_LENGTH) return parse(text, options);
  let cache = caches.get(options);
  if (!cache) caches.set(options, (cache = new Map()));
  let parsed = cache.get(text);
  if (!parsed) {
    if (cache.size >= CACHE_ENTRIES) cache.clear();
    cache.set(text, (parsed = parse(text, options)));
  }
  return parsed;
}
