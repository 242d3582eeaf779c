import vm from "node:vm";

// "Matches" rules run admin-written patterns on remote data, so a pattern must not be able to hang
// a lookup (ReDoS). Two layers: a crude static screen the form can explain (length, nested
// quantifiers such as (a+)+, backreferences), and a hard time limit: V8 checks for interrupts while
// backtracking, so running the match in a vm context with `timeout` stops a runaway pattern.

export const MAX_PATTERN_LENGTH = 200;
export const MAX_SUBJECT_LENGTH = 10_000;
export const MATCH_TIMEOUT_MS = 50;

/** Null when the pattern is acceptable, else why not (for the form and for the rule result). */
export function patternProblem(pattern: string): string | null {
  if (pattern.length === 0) return "pattern is empty";
  if (pattern.length > MAX_PATTERN_LENGTH) return `pattern is longer than ${MAX_PATTERN_LENGTH} characters`;
  try {
    new RegExp(pattern);
  } catch (e) {
    return `invalid pattern: ${(e as Error).message.replace(/^Invalid regular expression: /, "")}`;
  }
  if (/\\[1-9]|\\k</.test(pattern)) return "backreferences are not allowed";
  if (hasNestedQuantifier(pattern)) return "a repeated group may not contain a quantifier (e.g. (a+)+): it can take exponential time";
  return null;
}

/** Finds a group that holds a quantifier and is itself repeated (* + {n,} {n,m}). */
function hasNestedQuantifier(p: string): boolean {
  const stack: boolean[] = [false]; // per open group: does it contain a quantifier?
  const repeatAt = (i: number) => {
    const c = p[i];
    if (c === "*" || c === "+") return true;
    const m = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
    return !!m && m[2] !== undefined && (m[3] === "" || Number(m[3]) > 1);
  };
  const quantAt = (i: number) => p[i] === "?" || repeatAt(i);
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === "\\") {
      i++;
      continue;
    }
    if (c === "[") {
      for (i++; i < p.length && p[i] !== "]"; i++) if (p[i] === "\\") i++;
      continue;
    }
    if (c === "(") {
      stack.push(false);
      // Skip group modifiers so their "?" is not read as a quantifier: (?: (?= (?! (?<= (?<! (?<name>
      if (p[i + 1] === "?") {
        if (p[i + 2] === "<" && p[i + 3] !== "=" && p[i + 3] !== "!") {
          const close = p.indexOf(">", i);
          i = close < 0 ? i + 2 : close;
        } else i += p[i + 2] === "<" ? 3 : 2;
      }
      continue;
    }
    if (c === ")") {
      const inner = stack.pop() ?? false;
      if (inner && repeatAt(i + 1)) return true;
      if (stack.length === 0) stack.push(false);
      stack[stack.length - 1] = stack[stack.length - 1]! || inner || quantAt(i + 1);
      continue;
    }
    if (quantAt(i) && i > 0) stack[stack.length - 1] = true;
  }
  return false;
}

const sandbox = vm.createContext(Object.create(null) as object);
const matcher = new vm.Script("new RegExp(pattern).test(subject)");

export type MatchResult = { ok: true; matched: boolean } | { ok: false; error: string };

/** Tests `subject` against `pattern` (search semantics: anchor with ^ and $ for a whole match). */
export function safeMatch(pattern: string, subject: string, timeoutMs = MATCH_TIMEOUT_MS): MatchResult {
  const problem = patternProblem(pattern);
  if (problem) return { ok: false, error: problem };
  if (subject.length > MAX_SUBJECT_LENGTH) return { ok: false, error: `value is longer than ${MAX_SUBJECT_LENGTH} characters` };
  const g = sandbox as Record<string, unknown>;
  g.pattern = pattern;
  g.subject = subject;
  try {
    return { ok: true, matched: matcher.runInContext(sandbox, { timeout: timeoutMs }) === true };
  } catch (e) {
    if ((e as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT") return { ok: false, error: `pattern took longer than ${timeoutMs}ms` };
    return { ok: false, error: `pattern failed: ${(e as Error).message}` };
  } finally {
    g.pattern = g.subject = undefined;
  }
}
