"use client";
import { useActionState } from "react";
import { Field, FormMessage, SubmitButton, invalid, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { KAP_TYPES } from "@attested/platforms/options";
import { createKapAction, setTestRootsAction } from "./actions";

export function AddKapForm() {
  const [state, action] = useActionState(createKapAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-6" aria-label="Add Key Attestation Platform">
      <FormMessage state={state} />
      <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
        <Field label="Name" name="name" error={err.name}>
          <input className="input" {...invalid(state, "name")} />
        </Field>
        <Field label="Display Description" name="description" error={err.description} hint="Optional.">
          <input className="input" {...invalid(state, "description")} />
        </Field>
        <Field label="Type" name="type" error={err.type}>
          <select className="input" {...invalid(state, "type", "")}>
            <option value="" disabled>
              Select…
            </option>
            {KAP_TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}

/** `readOnlyReason`: the server does not accept test roots (ATTESTATION_TEST_ROOTS), so the field only shows them. */
export function TestRootsForm({ id, current, readOnlyReason }: { id: string; current: string; readOnlyReason?: string }) {
  const [state, action] = useActionState(setTestRootsAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-3" aria-label="Test trusted roots">
      <input type="hidden" name="id" value={id} />
      <FormMessage state={state} />
      <Field
        label="Additional trusted roots (FOR TESTING ONLY)"
        name="testTrustedRoots"
        error={state.fieldErrors?.testTrustedRoots}
        hint={readOnlyReason ?? "PEM certificates, e.g. a device simulator's root. Leave empty in production. Every change is recorded."}
      >
        <textarea className="input h-40 font-mono text-xs" readOnly={!!readOnlyReason} {...invalid(state, "testTrustedRoots", current)} />
      </Field>
      {!readOnlyReason && <SubmitButton variant="secondary">Update test trust</SubmitButton>}
    </form>
  );
}
