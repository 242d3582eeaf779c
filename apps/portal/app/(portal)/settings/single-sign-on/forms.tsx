"use client";
import { useActionState } from "react";
import { Field, FormMessage, SubmitButton, formKey, invalid } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { updateSsoSettingsAction } from "./actions";

export interface SsoFormValues {
  issuer: string;
  clientId: string;
  hasClientSecret: boolean;
  groupsClaim: string;
  mappings: string;
  requireSso: boolean;
  fromEnvironment: boolean;
}

export function SsoSettingsForm({ settings, callbackUrl, readOnly }: { settings: SsoFormValues; callbackUrl: string; readOnly: boolean }) {
  const [state, action] = useActionState(updateSsoSettingsAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="grid max-w-2xl grid-cols-1 gap-4" aria-label="Single sign-on">
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="grid grid-cols-1 gap-4">
        {settings.fromEnvironment && (
          <p role="status" className="rounded-md border border-slate-200 bg-slate-50 px-3 py-2 text-sm text-slate-700">
            The provider is set by the environment (<code>OIDC_ISSUER</code>, <code>OIDC_CLIENT_ID</code>, <code>OIDC_CLIENT_SECRET</code>,{" "}
            <code>OIDC_ROLE_MAPPINGS</code>): change it there. Only &quot;Require single sign-on&quot; is set here.
          </p>
        )}
        <fieldset disabled={settings.fromEnvironment} className="grid grid-cols-1 gap-4">
          <Field
            label="Issuer URL"
            name="issuer"
            error={err.issuer}
            hint="The provider's OpenID Connect issuer, e.g. https://login.microsoftonline.com/<tenant-id>/v2.0"
          >
            <input className="input font-mono" {...invalid(state, "issuer", settings.issuer)} />
          </Field>
          <Field label="Client ID" name="clientId" error={err.clientId}>
            <input className="input font-mono" {...invalid(state, "clientId", settings.clientId)} />
          </Field>
          <Field
            label="Client secret"
            name="clientSecret"
            error={err.clientSecret}
            hint={settings.hasClientSecret ? "Saved (never shown). Leave empty to keep it." : "Write-only: it is sealed and never shown again."}
          >
            <input className="input font-mono" type="password" autoComplete="off" {...invalid(state, "clientSecret")} />
          </Field>
          <p className="text-xs text-slate-600">
            Redirect URI to register with the provider: <code className="break-all font-mono">{callbackUrl}</code>
          </p>
          <Field
            label="Groups claim"
            name="groupsClaim"
            error={err.groupsClaim}
            hint="The ID token claim listing the user's groups or roles (Entra ID: groups or roles; Okta: groups)."
          >
            <input className="input font-mono" {...invalid(state, "groupsClaim", settings.groupsClaim)} />
          </Field>
          <Field
            label="Role mappings"
            name="mappings"
            error={err.mappings}
            hint='One per line: "group = Admin" or "group = Auditor". A user in an Admin group is an admin; else in an Auditor group, an auditor; else refused.'
          >
            <textarea className="input min-h-28 font-mono" {...invalid(state, "mappings", settings.mappings)} />
          </Field>
        </fieldset>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" name="requireSso" defaultChecked={state.values ? state.values.requireSso === "on" : settings.requireSso} />
          Require single sign-on (password sign-in only for break-glass accounts, marked on Settings &gt; Users)
        </label>
        {err.requireSso && (
          <p role="alert" className="text-xs font-medium text-red-600">
            {err.requireSso}
          </p>
        )}
      </fieldset>
      {!readOnly && (
        <div>
          <SubmitButton>Save</SubmitButton>
        </div>
      )}
    </form>
  );
}
