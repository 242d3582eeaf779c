"use client";
import { useActionState } from "react";
import { ConfirmSubmit, Field, FormMessage, SubmitButton, invalid, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { createTokenAction, revokeTokenAction } from "./actions";

export function CreateTokenForm({ defaultDays }: { defaultDays: number }) {
  const [state, action] = useActionState(createTokenAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="grid grid-cols-1 gap-4 md:grid-cols-4" aria-label="Create API token">
      <div className="md:col-span-4">
        <FormMessage state={state} />
      </div>
      {state.reveal?.token && (
        <div className="md:col-span-4">
          <label htmlFor="new-token">New token</label>
          <input id="new-token" readOnly className="input font-mono" value={state.reveal.token} data-testid="new-token" />
        </div>
      )}
      <Field label="Name" name="name" error={err.name}>
        <input className="input" {...invalid(state, "name")} />
      </Field>
      <Field label="Scope" name="role" error={err.role}>
        <select className="input" {...invalid(state, "role", "AUDITOR")}>
          <option value="ADMIN">Admin (read and write)</option>
          <option value="AUDITOR">Auditor (read only)</option>
        </select>
      </Field>
      <Field label="Expires in" name="expiresInDays" error={err.expiresInDays}>
        <select className="input" {...invalid(state, "expiresInDays", String(defaultDays))}>
          {[7, 30, 90, 180, 365].map((d) => (
            <option key={d} value={d}>
              {d} days
            </option>
          ))}
        </select>
      </Field>
      <div className="flex items-end">
        <SubmitButton>Add</SubmitButton>
      </div>
    </form>
  );
}

export function RevokeTokenForm({ id, name }: { id: string; name: string }) {
  const [state, action] = useActionState(revokeTokenAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action}>
      <input type="hidden" name="id" value={id} />
      <ConfirmSubmit message={`Revoke the token "${name}"? Clients using it stop working.`}>Revoke</ConfirmSubmit>
      {state.error && (
        <span role="alert" className="ml-2 text-xs text-red-600">
          {state.error}
        </span>
      )}
    </form>
  );
}
