"use client";
import { useActionState } from "react";
import { Field, FormMessage, SubmitButton, formKey, invalid } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import type { MailSettingsView } from "@attested/lifecycle";
import { sendTestMailAction, updateMailSettingsAction } from "./actions";

/** Settings > Mail. The password is write-only: the form never holds the saved one. */
export function MailSettingsForm({ settings, readOnly }: { settings: MailSettingsView; readOnly: boolean }) {
  const [state, action] = useActionState(updateMailSettingsAction, emptyForm);
  const err = state.fieldErrors ?? {};
  const keep = (name: keyof MailSettingsView) => String(settings[name] ?? "");
  return (
    <form noValidate key={formKey(state)} action={action} aria-label="Mail settings">
      <fieldset disabled={readOnly} className="grid grid-cols-1 gap-4 md:grid-cols-2">
        <div className="md:col-span-2">
          <FormMessage state={state} />
        </div>
        <Field label="SMTP host" name="host" error={err.host} hint="Leave empty to turn mail off.">
          <input className="input" placeholder="smtp.example.com" {...invalid(state, "host", keep("host"))} />
        </Field>
        <Field label="Port" name="port" error={err.port} hint="Empty: 587 for STARTTLS, 465 for TLS.">
          <input className="input" inputMode="numeric" {...invalid(state, "port", settings.port ? String(settings.port) : "")} />
        </Field>
        <Field label="TLS" name="secure" error={err.secure}>
          <select className="input" {...invalid(state, "secure", settings.secure ? "true" : "")}>
            <option value="">STARTTLS (required when a username is set)</option>
            <option value="true">TLS from the first byte (SMTPS)</option>
          </select>
        </Field>
        <Field label="From address" name="from" error={err.from}>
          <input className="input" type="email" placeholder="pki@example.com" {...invalid(state, "from", keep("from"))} />
        </Field>
        <Field label="Username" name="user" error={err.user} hint="Empty when the server needs no authentication.">
          <input className="input" autoComplete="off" {...invalid(state, "user", keep("user"))} />
        </Field>
        <Field
          label="Password"
          name="password"
          error={err.password}
          hint={
            settings.passwordSet
              ? "A password is saved. It is never shown: type a new one to replace it, or leave empty to keep it."
              : "Stored encrypted; never shown again."
          }
        >
          <input
            className="input"
            type="password"
            autoComplete="new-password"
            placeholder={settings.passwordSet ? "•••••••• (saved)" : ""}
            {...invalid(state, "password")}
            defaultValue=""
          />
        </Field>
        {settings.passwordSet && (
          <label className="flex items-center gap-2 text-sm md:col-span-2">
            <input type="checkbox" name="clearPassword" /> Remove the saved password
          </label>
        )}
        {!readOnly && (
          <div className="md:col-span-2">
            <SubmitButton>Save</SubmitButton>
          </div>
        )}
      </fieldset>
    </form>
  );
}

export function TestMailForm({ defaultTo, configured }: { defaultTo: string; configured: boolean }) {
  const [state, action] = useActionState(sendTestMailAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-3" aria-label="Send test mail">
      <FormMessage state={state} />
      <div className="flex flex-wrap items-end gap-3">
        <div className="w-80">
          <Field label="Send to" name="to" error={state.fieldErrors?.to}>
            <input className="input" type="email" {...invalid(state, "to", defaultTo)} />
          </Field>
        </div>
        <SubmitButton variant="secondary">Send test mail</SubmitButton>
      </div>
      {!configured && <p className="text-xs text-slate-500">Save the SMTP settings first.</p>}
    </form>
  );
}
