import { renderTemplate, templateUses, type TemplateVars } from "./template";

// Response paths such as `data[0].serial_number`, `data.user.email`, `headers.content-type` or
// `status`, evaluated against { data: <parsed body>, status, headers }. Parsed by hand (no eval), and
// only own properties are read, so a path can never reach a prototype.
//
// Grammar:
//   path    := root segment*            root is data | status | headers
//   segment := "." key                  key chars: letters, digits, _ $ -  (digits index an array)
//            | "[" int "]"               negative counts from the end: [-1] is the last item
//            | "[" quoted "]"            ["odd key"] or ['odd key']
//            | "[" key ("." key)* "=" value "]"
//                                        first array item whose field equals value; value may be
//                                        quoted and may hold ${identity} or ${/context/path}
// `length` of an array or string is its size.

export const ROOTS = ["data", "status", "headers"] as const;
export type Root = (typeof ROOTS)[number];

export const MAX_PATH_LENGTH = 300;
const MAX_SEGMENTS = 32;
const FORBIDDEN = new Set(["__proto__", "prototype", "constructor"]);

export type Segment = { kind: "key"; key: string } | { kind: "index"; index: number } | { kind: "filter"; field: string[]; value: string };

export interface ParsedPath {
  root: Root;
  segments: Segment[];
}

/** A path the form should reject; `position` is the offending character's index. */
export class PathError extends Error {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
    this.name = "PathError";
  }
}

/** What a response path is evaluated against. Header names are lower-case. */
export interface ResponseView {
  data: unknown;
  status: number;
  headers: Record<string, string>;
}

const KEY = /[A-Za-z0-9_$-]/;

function checkKey(key: string, at: number): string {
  if (FORBIDDEN.has(key)) throw new PathError(`"${key}" is not allowed in a path`, at);
  return key;
}

export function parsePath(path: string): ParsedPath {
  if (typeof path !== "string" || path.trim() === "") throw new PathError("Response path is required", 0);
  if (path.length > MAX_PATH_LENGTH) throw new PathError(`Response path is longer than ${MAX_PATH_LENGTH} characters`, MAX_PATH_LENGTH);
  const s = path.trim();
  let i = 0;

  const readKey = (): string => {
    const start = i;
    while (i < s.length && KEY.test(s[i]!)) i++;
    if (i === start) throw new PathError(`expected a name at position ${start + 1}`, start);
    return checkKey(s.slice(start, i), start);
  };
  const readQuoted = (): string => {
    const quote = s[i]!;
    const start = i++;
    let out = "";
    while (i < s.length && s[i] !== quote) {
      if (s[i] === "\\" && i + 1 < s.length) i++;
      out += s[i++];
    }
    if (i >= s.length) throw new PathError(`unterminated quote at position ${start + 1}`, start);
    i++; // closing quote
    return out;
  };

  const root = readKey();
  if (!(ROOTS as readonly string[]).includes(root)) {
    throw new PathError(`path must start with data, status or headers (not "${root}")`, 0);
  }
  const segments: Segment[] = [];
  while (i < s.length) {
    if (segments.length >= MAX_SEGMENTS) throw new PathError(`path has more than ${MAX_SEGMENTS} parts`, i);
    const c = s[i]!;
    if (c === ".") {
      i++;
      const key = readKey();
      segments.push(/^\d+$/.test(key) ? { kind: "index", index: Number(key) } : { kind: "key", key });
    } else if (c === "[") {
      const open = i++;
      if (s[i] === '"' || s[i] === "'") {
        segments.push({ kind: "key", key: checkKey(readQuoted(), open) });
      } else if (/^-?\d/.test(s.slice(i))) {
        const m = /^-?\d+/.exec(s.slice(i))!;
        i += m[0].length;
        segments.push({ kind: "index", index: Number(m[0]) });
      } else {
        const field = [readKey()];
        while (s[i] === ".") {
          i++;
          field.push(readKey());
        }
        if (s[i] !== "=") throw new PathError(`expected "=" or "]" at position ${i + 1}`, i);
        i++;
        let value: string;
        if (s[i] === '"' || s[i] === "'") value = readQuoted();
        else {
          const start = i;
          while (i < s.length && s[i] !== "]") i++;
          value = s.slice(start, i).trim();
        }
        segments.push({ kind: "filter", field, value });
      }
      if (s[i] !== "]") throw new PathError(`missing "]" for "[" at position ${open + 1}`, open);
      i++;
    } else {
      throw new PathError(`unexpected "${c}" at position ${i + 1}`, i);
    }
  }
  if (root === "status" && segments.length > 0) {
    throw new PathError("status is a number and has no parts", root.length);
  }
  return { root: root as Root, segments };
}

/** The form's check: null when valid, else a message naming the problem. */
export function pathProblem(path: string): string | null {
  try {
    parsePath(path);
    return null;
  } catch (e) {
    if (e instanceof PathError) return e.message;
    throw e;
  }
}

export type PathValue = { found: true; value: unknown } | { found: false; reason: string };

const own = (o: object, k: string) => Object.hasOwn(o, k);

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (v === "") return "an empty string";
  return typeof v === "object" ? "an object" : `a ${typeof v}`;
}

function stringValue(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

function step(cur: unknown, seg: Segment, vars: TemplateVars | undefined): PathValue {
  if (seg.kind === "index") {
    if (!Array.isArray(cur)) return { found: false, reason: `is ${describe(cur)}, not an array` };
    const idx = seg.index < 0 ? cur.length + seg.index : seg.index;
    if (idx < 0 || idx >= cur.length) return { found: false, reason: `has no item [${seg.index}] (${cur.length} items)` };
    return { found: true, value: cur[idx] };
  }
  if (seg.kind === "filter") {
    if (!Array.isArray(cur)) return { found: false, reason: `is ${describe(cur)}, not an array` };
    const want = vars ? renderTemplate(seg.value, vars) : seg.value;
    const hit = cur.find((item) => {
      const v = resolve(
        item,
        seg.field.map((key) => ({ kind: "key", key }) as Segment),
        vars,
      );
      return v.found && stringValue(v.value) === want;
    });
    return hit === undefined
      ? { found: false, reason: `has no item whose ${seg.field.join(".")} is "${want}" (${cur.length} items)` }
      : { found: true, value: hit };
  }
  if (seg.key === "length" && (Array.isArray(cur) || typeof cur === "string")) return { found: true, value: cur.length };
  if (Array.isArray(cur) && /^\d+$/.test(seg.key)) return step(cur, { kind: "index", index: Number(seg.key) }, vars);
  if (cur === null || typeof cur !== "object" || Array.isArray(cur)) {
    return { found: false, reason: `is ${describe(cur)}, so it has no "${seg.key}"` };
  }
  if (!own(cur, seg.key)) return { found: false, reason: `has no "${seg.key}"` };
  return { found: true, value: (cur as Record<string, unknown>)[seg.key] };
}

function label(root: string, segments: Segment[]): string {
  let out = root;
  for (const s of segments) {
    if (s.kind === "index") out += `[${s.index}]`;
    else if (s.kind === "filter") out += `[${s.field.join(".")}=${s.value}]`;
    else out += /^[A-Za-z0-9_$-]+$/.test(s.key) ? `.${s.key}` : `[${JSON.stringify(s.key)}]`;
  }
  return out;
}

function resolve(start: unknown, segments: Segment[], vars: TemplateVars | undefined, root = ""): PathValue {
  let cur = start;
  for (let n = 0; n < segments.length; n++) {
    const r = step(cur, segments[n]!, vars);
    if (!r.found) return { found: false, reason: `${label(root, segments.slice(0, n)) || "value"} ${r.reason}` };
    cur = r.value;
  }
  return { found: true, value: cur };
}

/**
 * Evaluates a path against a response. `vars` fills ${...} in filter values; a missing variable
 * throws TemplateError (the caller reports it as a failed rule or mapping).
 */
export function evaluatePath(view: ResponseView, path: string | ParsedPath, vars?: TemplateVars): PathValue {
  const p = typeof path === "string" ? parsePath(path) : path;
  if (p.root === "status") return { found: true, value: view.status };
  if (p.root === "headers") {
    const [first, ...rest] = p.segments;
    if (!first) return { found: true, value: view.headers };
    if (first.kind !== "key") return { found: false, reason: "headers are named, not numbered" };
    const name = first.key.toLowerCase();
    if (!own(view.headers, name)) return { found: false, reason: `headers has no "${name}"` };
    return resolve(view.headers[name], rest, vars, `headers.${name}`);
  }
  return resolve(view.data, p.segments, vars, "data");
}

/** Whether any filter segment of the path compares against a value holding one of `variables`. */
export function pathFiltersOn(path: string | ParsedPath, variables: readonly string[]): boolean {
  const p = typeof path === "string" ? parsePath(path) : path;
  return p.segments.some((s) => s.kind === "filter" && templateUses(s.value, variables));
}
