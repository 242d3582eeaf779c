"use client";
import { useActionState } from "react";
import { Field, FormMessage, SubmitButton, formKey, invalid } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { updateRetentionAction } from "./actions";

export function RetentionForm({ days, readOnly }: { days: number | null; readOnly: boolean }) {
  const [state, action] = useActionState(updateRetentionAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action} aria-label="Event retention">
      <fieldset disabled={readOnly} className="space-y-4">
        <FormMessage state={state} />
        <div className="w-72">
          <Field
            label="Keep events for (days)"
            name="eventRetentionDays"
            error={state.fieldErrors?.eventRetentionDays}
            hint="30 to 3650 days; empty keeps every event."
          >
            <input className="input" inputMode="numeric" {...invalid(state, "eventRetentionDays", days ? String(days) : "")} />
          </Field>
        </div>
        {!readOnly && <SubmitButton>Save</SubmitButton>}
      </fieldset>
    </form>
  );
}
