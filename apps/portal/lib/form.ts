import { ZodError } from "zod";
import { DomainError, PkiError } from "@attested/errors";
import type { FormState } from "./form-state";

export type { FormState };

const SECRET_FIELD = /password|token|secret/i;

export function formToObject(form: FormData): Record<string, string> {
  const out: Record<string, string> = {};
  // Several values under one name (checkbox groups) are kept one per line.
  for (const [k, v] of form.entries()) if (typeof v === "string" && !k.startsWith("$ACTION")) out[k] = k in out ? `${out[k]}\n${v}` : v;
  return out;
}

/** Turns validation, domain and PKI errors into a FormState (the one conversion for server actions); rethrows anything else (and Next redirects). */
export function toFormState(e: unknown): FormState {
  if (e instanceof ZodError) {
    const fieldErrors: Record<string, string> = {};
    for (const issue of e.issues) fieldErrors[issue.path.join(".") || "_"] ??= issue.message;
    return { error: "Please correct the highlighted fields.", fieldErrors };
  }
  if (e instanceof DomainError || e instanceof PkiError) return { error: e.message, fieldErrors: e.field ? { [e.field]: e.message } : undefined };
  throw e;
}

/**
 * The one shape of every form's server action: the handler gets the submitted fields; validation
 * and domain errors come back as field messages with the input kept (secrets excluded).
 */
export function formAction(handler: (input: Record<string, string>, form: FormData) => Promise<FormState>) {
  return async (_prev: FormState, form: FormData): Promise<FormState> => {
    const input = formToObject(form);
    const values = Object.fromEntries(Object.entries(input).filter(([k]) => !SECRET_FIELD.test(k)));
    // PostgreSQL text cannot hold NUL: refuse it here rather than fail on the write.
    if (Object.values(input).some((v) => v.includes("\0"))) return { error: "A field contains a NUL character.", values };
    try {
      const state = await handler(input, form);
      // A saved form shows what was saved (React would reset selects to their first defaults);
      // a form that creates something starts empty again.
      return state.reset ? { ...state, reset: undefined } : { ...state, values };
    } catch (e) {
      return { ...toFormState(e), values };
    }
  };
}
