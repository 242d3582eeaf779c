import { ZodError } from "zod";
import { DomainError } from "@attested/identity";
import type { FormState } from "./form-state";

export type { FormState };


const isDomainError = (e: unknown): e is DomainError =>
  e instanceof DomainError || (e instanceof Error && "status" in e && typeof (e as DomainError).status === "number");

/** Turns validation and domain errors into a FormState; rethrows anything else (and Next redirects). */
export function toFormState(e: unknown): FormState {
  if (e instanceof ZodError) {
    const fieldErrors: Record<string, string> = {};
    for (const issue of e.issues) {
      const key = issue.path.join(".") || "_";
      fieldErrors[key] ??= issue.message;
    }
    return { error: "Please correct the highlighted fields.", fieldErrors };
  }
  if (isDomainError(e)) {
    const field = (e as DomainError).field;
    return { error: e.message, fieldErrors: field ? { [field]: e.message } : undefined };
  }
  throw e;
}

export function formToObject(form: FormData): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of form.entries()) if (typeof v === "string" && !k.startsWith("$ACTION")) out[k] = v;
  return out;
}
