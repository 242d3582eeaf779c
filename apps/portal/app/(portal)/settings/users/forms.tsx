"use client";
import { useActionState } from "react";
import { ConfirmSubmit, Field, FormMessage, SubmitButton, invalid, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { createUserAction, requireSecondFactorAction, resetPasswordAction, resetSecondFactorAction, updateUserAction } from "./actions";

export function AddUserForm() {
  const [state, action] = useActionState(createUserAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="grid grid-cols-1 gap-4 md:grid-cols-2" aria-label="Add user">
      <div className="md:col-span-2">
        <FormMessage state={state} />
      </div>
      <Field label="Name" name="name" error={err.name}>
        <input className="input" {...invalid(state, "name")} />
      </Field>
      <Field label="Email" name="email" error={err.email}>
        <input className="input" type="email" {...invalid(state, "email")} />
      </Field>
      <Field label="Role" name="role" error={err.role}>
        <select className="input" {...invalid(state, "role", "AUDITOR")}>
          <option value="ADMIN">Admin</option>
          <option value="AUDITOR">Auditor</option>
        </select>
      </Field>
      <Field
        label="Initial password"
        name="password"
        error={err.password}
        hint="At least 12 characters, not a common or guessable one. Share it with the user privately."
      >
        <input className="input" type="password" autoComplete="new-password" {...invalid(state, "password")} />
      </Field>
      <div className="md:col-span-2">
        <SubmitButton>Add</SubmitButton>
      </div>
    </form>
  );
}

export function UserRowActions({
  id,
  email,
  role,
  disabled,
  breakGlass,
  local,
}: {
  id: string;
  email: string;
  role: string;
  disabled: boolean;
  breakGlass: boolean;
  local: boolean;
}) {
  const [state, action] = useActionState(updateUserAction, emptyForm);
  return (
    <div className="flex flex-wrap items-center gap-2">
      <form noValidate key={formKey(state)} action={action} className="flex items-center gap-2" aria-label={`Role of ${email}`}>
        <input type="hidden" name="id" value={id} />
        <input type="hidden" name="change" value="role" />
        <select name="role" defaultValue={role} className="input w-32 py-1" aria-label={`Role for ${email}`}>
          <option value="ADMIN">Admin</option>
          <option value="AUDITOR">Auditor</option>
        </select>
        <SubmitButton variant="secondary">Update</SubmitButton>
      </form>
      <form noValidate key={formKey(state)} action={action}>
        <input type="hidden" name="id" value={id} />
        <input type="hidden" name="change" value={disabled ? "enable" : "disable"} />
        {disabled ? (
          <SubmitButton variant="secondary">Enable</SubmitButton>
        ) : (
          <ConfirmSubmit message={`Disable ${email}? They will be signed out and cannot sign in.`}>Disable</ConfirmSubmit>
        )}
      </form>
      {local && (
        <form noValidate key={formKey(state)} action={action} aria-label={`Break-glass of ${email}`}>
          <input type="hidden" name="id" value={id} />
          <input type="hidden" name="change" value={breakGlass ? "notBreakGlass" : "breakGlass"} />
          <SubmitButton variant="secondary">{breakGlass ? "Not break-glass" : "Make break-glass"}</SubmitButton>
        </form>
      )}
      {state.error && (
        <span role="alert" className="text-xs text-red-600">
          {state.error}
        </span>
      )}
    </div>
  );
}

export function ResetPasswordForm({ id, email }: { id: string; email: string }) {
  const [state, action] = useActionState(resetPasswordAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action} className="mt-2 flex flex-wrap items-center gap-2" aria-label={`Reset password of ${email}`}>
      <input type="hidden" name="id" value={id} />
      <input
        name="password"
        type="password"
        autoComplete="new-password"
        className="input w-48 py-1"
        aria-label={`New password for ${email}`}
        placeholder="New password"
      />
      <SubmitButton variant="secondary">Reset password</SubmitButton>
      {state.error && (
        <span role="alert" className="text-xs text-red-600">
          {state.error}
        </span>
      )}
      {state.ok && state.message && (
        <span role="status" className="text-xs text-green-700">
          {state.message}
        </span>
      )}
    </form>
  );
}

export function ResetSecondFactorForm({ id, email }: { id: string; email: string }) {
  const [state, action] = useActionState(resetSecondFactorAction, emptyForm);
  return (
    <form action={action} className="mt-2 flex flex-wrap items-center gap-2" aria-label={`Reset two-factor authentication of ${email}`}>
      <input type="hidden" name="id" value={id} />
      <SubmitButton variant="secondary">Reset two-factor</SubmitButton>
      {state.error && (
        <span role="alert" className="text-xs text-red-600">
          {state.error}
        </span>
      )}
      {state.ok && state.message && (
        <span role="status" className="text-xs text-green-700">
          {state.message}
        </span>
      )}
    </form>
  );
}

export function RequireSecondFactorForm({ required }: { required: boolean }) {
  const [state, action] = useActionState(requireSecondFactorAction, emptyForm);
  return (
    <form action={action} className="space-y-3" aria-label="Two-factor authentication">
      <FormMessage state={state} />
      <label className="flex items-center gap-2 text-sm">
        <input
          type="checkbox"
          name="requireSecondFactorForAdmins"
          defaultChecked={state.values ? state.values.requireSecondFactorForAdmins === "on" : required}
        />
        Require two-factor authentication for admins
      </label>
      <p className="text-xs text-slate-500">
        Admins without it are sent to Settings &gt; Account to set it up before they can use the portal. Auditors may turn it on for themselves.
      </p>
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}
