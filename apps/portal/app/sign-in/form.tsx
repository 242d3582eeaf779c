"use client";
import { useActionState } from "react";
import { Field, FormMessage, SubmitButton, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { signInAction } from "./actions";

export function SignInForm() {
  const [state, action] = useActionState(signInAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-4">
      <FormMessage state={state} />
      <Field label="Email" name="email">
        <input className="input" id="email" name="email" type="email" autoComplete="username" required />
      </Field>
      <Field label="Password" name="password">
        <input className="input" id="password" name="password" type="password" autoComplete="current-password" required />
      </Field>
      <SubmitButton>Sign in</SubmitButton>
    </form>
  );
}
