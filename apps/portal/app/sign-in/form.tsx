"use client";
import { useActionState, useState } from "react";
import { Field, FormMessage, SubmitButton, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { type SignInState, signInAction } from "./actions";

export function SignInForm() {
  const [state, action] = useActionState(signInAction, emptyForm as SignInState);
  // Kept here, not in the form: a second step (the authentication code) submits them again, and a
  // form action clears uncontrolled fields.
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-4">
      <FormMessage state={state} />
      <Field label="Email" name="email">
        <input
          className="input"
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onChange={(e) => setEmail(e.target.value)}
        />
      </Field>
      <Field label="Password" name="password">
        <input
          className="input"
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </Field>
      {state.secondFactor && (
        <Field
          label="Authentication code"
          name="code"
          error={state.fieldErrors?.code}
          hint="The 6-digit code your authenticator app shows, or one of your recovery codes."
        >
          {/* biome-ignore lint/a11y/noAutofocus: the one field left to fill in this step */}
          <input className="input font-mono" id="code" name="code" autoComplete="one-time-code" required autoFocus />
        </Field>
      )}
      <SubmitButton>{state.secondFactor ? "Verify" : "Sign in"}</SubmitButton>
    </form>
  );
}
