"use client";
import { useActionState } from "react";
import { Field, FormMessage, SubmitButton, invalid, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { changePasswordAction } from "./actions";

export function ChangePasswordForm() {
  const [state, action] = useActionState(changePasswordAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="grid max-w-md grid-cols-1 gap-4" aria-label="Change password">
      <FormMessage state={state} />
      <Field label="Current password" name="currentPassword" error={err.currentPassword}>
        <input className="input" type="password" autoComplete="current-password" {...invalid(state, "currentPassword")} />
      </Field>
      <Field label="New password" name="newPassword" error={err.newPassword} hint="At least 12 characters, not a common or guessable one.">
        <input className="input" type="password" autoComplete="new-password" {...invalid(state, "newPassword")} />
      </Field>
      <div>
        <SubmitButton>Change password</SubmitButton>
      </div>
    </form>
  );
}
