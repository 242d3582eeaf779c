"use client";
import { useFormStatus } from "react-dom";
import type { FormState } from "@/lib/form-state";

export function SubmitButton({
  children,
  variant = "primary",
  name,
  value,
}: {
  children: React.ReactNode;
  variant?: "primary" | "secondary" | "danger";
  name?: string;
  value?: string;
}) {
  const { pending } = useFormStatus();
  return (
    <button type="submit" name={name} value={value} disabled={pending} className={`btn-${variant}`}>
      {pending ? "Working…" : children}
    </button>
  );
}

/** A labelled field with its validation message; the message is tied to the input for screen readers. */
export function Field({
  label,
  name,
  error,
  hint,
  children,
}: {
  label: string;
  name: string;
  error?: string;
  hint?: React.ReactNode;
  children: React.ReactNode;
}) {
  return (
    <div className="space-y-1">
      <label htmlFor={name}>{label}</label>
      {children}
      {hint && !error && <p className="text-xs text-slate-500">{hint}</p>}
      {error && (
        <p id={`${name}-error`} role="alert" className="text-xs font-medium text-red-600">
          {error}
        </p>
      )}
    </div>
  );
}

export function FormMessage({ state }: { state: FormState }) {
  if (state.error)
    return (
      <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
        {state.error}
      </div>
    );
  if (state.message)
    return (
      <div role="status" className="rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
        {state.message}
      </div>
    );
  return null;
}

/** Asks before a destructive action (delete, revoke, rotate). */
export function ConfirmSubmit({ children, message, variant = "danger" }: { children: React.ReactNode; message: string; variant?: "danger" | "secondary" }) {
  const { pending } = useFormStatus();
  return (
    <button
      type="submit"
      disabled={pending}
      className={`btn-${variant}`}
      onClick={(e) => {
        if (!window.confirm(message)) e.preventDefault();
      }}
    >
      {pending ? "Working…" : children}
    </button>
  );
}

/** Props for an input bound to a form state: id, name, kept value, and its error wiring. */
export const invalid = (state: FormState, name: string, fallback?: string) => ({
  id: name,
  name,
  defaultValue: state.values?.[name] ?? fallback,
  "aria-invalid": state.fieldErrors?.[name] ? (true as const) : undefined,
  "aria-describedby": state.fieldErrors?.[name] ? `${name}-error` : undefined,
});

/**
 * React resets a form after its action; selects then fall back to their first default. Keying the
 * form by what was submitted remounts it with the kept values as defaults.
 */
export const formKey = (...states: FormState[]) => JSON.stringify(states.map((s) => s.values ?? null));
