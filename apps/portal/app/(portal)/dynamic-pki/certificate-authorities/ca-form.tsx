"use client";
import Link from "next/link";
import { useActionState, useState } from "react";
import { Field, FormMessage, SubmitButton, invalid, formKey } from "@/components/form";
import { emptyForm, type FormState } from "@/lib/form-state";
import { CA_PURPOSES, CA_TYPES, EXPIRY_NOTIFICATION_FREQUENCIES, GENERATE_VIA, KEY_SIZES, REASON_CODES, SIGNATURE_ALGORITHMS } from "@attested/ca/options";
import { createCaAction, updateCaSettingsAction } from "./actions";

type Settings = {
  expiryNotificationDays: number | null;
  notifyOnEnrollment: boolean;
  revokeUnusedDays: number | null;
  revokeSinceLastUsage: boolean;
  revokeSinceIssuance: boolean;
  revocationReason: string;
};

/** The Notifications and Revocation sections, shared by "Add Certificate Authority" and the CA page. */
function SettingsSections({ state, initial, mailConfigured }: { state: FormState; initial?: Settings; mailConfigured: boolean }) {
  const err = state.fieldErrors ?? {};
  const v = (k: keyof Settings) => state.values?.[k] ?? (initial?.[k] === null || initial?.[k] === undefined ? undefined : String(initial[k]));
  const checked = (k: keyof Settings) => (state.values ? state.values[k] === "on" : Boolean(initial?.[k]));
  const [notify, setNotify] = useState(checked("notifyOnEnrollment"));
  // Without mail every notice would end as a "Mail Failed" event: say so where the box is ticked.
  const mailMissing = !mailConfigured && notify;
  return (
    <>
      <fieldset className="space-y-4 rounded-lg border border-slate-200 p-4">
        <legend className="px-1 text-sm font-semibold text-slate-800">Notifications</legend>
        <Field label="Expiry Notification Frequency (in days)" name="expiryNotificationDays" error={err.expiryNotificationDays}>
          <select className="input" {...invalid(state, "expiryNotificationDays")} defaultValue={v("expiryNotificationDays") ?? ""}>
            <option value="">Never</option>
            {EXPIRY_NOTIFICATION_FREQUENCIES.map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </Field>
        <label className="flex items-center gap-2">
          <input
            type="checkbox"
            name="notifyOnEnrollment"
            defaultChecked={checked("notifyOnEnrollment")}
            onChange={(e) => setNotify(e.target.checked)}
            className="h-4 w-4"
          />
          Notify user on successful Enrollment
        </label>
        <p className="text-xs text-slate-500">
          If the certificate&apos;s RFC822 name is a valid email address, the user receives the certificate-issued and expiry notifications; otherwise no mail
          is sent.
        </p>
        {mailMissing && (
          <p role="status" data-testid="mail-not-configured" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
            Mail is not configured, so no notification can be sent: each one would be recorded as a <em>Mail Failed</em> event. Set up an SMTP server in{" "}
            <Link className="link" href="/settings/mail">
              Settings &gt; Mail
            </Link>{" "}
            and use <em>Send test mail</em> there.
          </p>
        )}
      </fieldset>
      <fieldset className="space-y-4 rounded-lg border border-slate-200 p-4">
        <legend className="px-1 text-sm font-semibold text-slate-800">Revocation</legend>
        <Field
          label="Revoke Certificate if unused for"
          name="revokeUnusedDays"
          error={err.revokeUnusedDays}
          hint="Days. Leave empty to never revoke unused certificates."
        >
          <input className="input w-40" type="number" min={1} {...invalid(state, "revokeUnusedDays")} defaultValue={v("revokeUnusedDays")} />
        </Field>
        <div className="flex flex-wrap gap-6">
          <label className="flex items-center gap-2">
            <input type="checkbox" name="revokeSinceLastUsage" defaultChecked={checked("revokeSinceLastUsage")} className="h-4 w-4" /> Since last usage
          </label>
          <label className="flex items-center gap-2">
            <input type="checkbox" name="revokeSinceIssuance" defaultChecked={checked("revokeSinceIssuance")} className="h-4 w-4" /> Since certificate issuance
          </label>
        </div>
        {err.revokeSinceLastUsage && (
          <p role="alert" className="text-xs font-medium text-red-600">
            {err.revokeSinceLastUsage}
          </p>
        )}
        <Field label="Reason Code" name="revocationReason" error={err.revocationReason}>
          <select className="input" {...invalid(state, "revocationReason")} defaultValue={v("revocationReason") ?? "unspecified"}>
            {REASON_CODES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </Field>
      </fieldset>
    </>
  );
}

/** `hsm`: the configured PKCS#11 token ("token \"CA Keys\""), or null when none is (the option is then disabled). */
export function AddCaForm({
  parents,
  mailConfigured,
  hsm,
}: {
  parents: { id: string; name: string; isDefault: boolean }[];
  mailConfigured: boolean;
  hsm: string | null;
}) {
  const [state, action] = useActionState(createCaAction, emptyForm);
  const [type, setType] = useState(state.values?.type ?? "ROOT");
  const [via, setVia] = useState(state.values?.generatedVia ?? "");
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-6" aria-label="Add Certificate Authority">
      <FormMessage state={state} />
      <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
        <legend className="px-1 text-sm font-semibold text-slate-800">Basic</legend>
        <Field label="Generate CA For" name="purpose" error={err.purpose}>
          <select className="input" {...invalid(state, "purpose", "")}>
            <option value="" disabled>
              Select…
            </option>
            {CA_PURPOSES.map((p) => (
              <option key={p}>{p}</option>
            ))}
          </select>
        </Field>
        <Field label="Type" name="type" error={err.type}>
          <select className="input" {...invalid(state, "type")} value={type} onChange={(e) => setType(e.target.value)}>
            {CA_TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </Field>
        {type === "INTERMEDIATE" && (
          <Field label="Certificate Authority" name="parentId" error={err.parentId}>
            <select className="input" {...invalid(state, "parentId", "")}>
              <option value="" disabled>
                Select…
              </option>
              {parents.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                  {p.isDefault ? " (default Root CA)" : ""}
                </option>
              ))}
            </select>
          </Field>
        )}
        <Field label="Generate via" name="generatedVia" error={err.generatedVia}>
          <select className="input" {...invalid(state, "generatedVia")} value={via} onChange={(e) => setVia(e.target.value)}>
            <option value="" disabled>
              Select…
            </option>
            {GENERATE_VIA.map((g) => (
              <option key={g.value} value={g.value} disabled={g.value === "pkcs11" && !hsm}>
                {g.label}
                {g.value === "pkcs11" && !hsm ? " (not configured)" : ""}
              </option>
            ))}
          </select>
        </Field>
        {via === "pkcs11" && (
          <div className="space-y-2">
            <Field
              label="Key Label"
              name="keyLabel"
              error={err.keyLabel}
              hint={`The key's label (CKA_LABEL) in the ${hsm}. Leave empty to name a new key after the CA.`}
            >
              <input className="input" {...invalid(state, "keyLabel")} />
            </Field>
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" name="useExistingKey" defaultChecked={state.values?.useExistingKey === "on"} className="h-4 w-4" />
              Use the existing key with this label (made in a key ceremony; its own type applies)
            </label>
          </div>
        )}
        <Field label="Common Name" name="commonName" error={err.commonName} hint="Tip: include ‘ACME’ in the name of a CA for ACME enrollment.">
          <input className="input" {...invalid(state, "commonName")} />
        </Field>
        <Field label="Key Size" name="keyAlgorithm" error={err.keyAlgorithm}>
          <select className="input" {...invalid(state, "keyAlgorithm", "RSA-2048")}>
            {KEY_SIZES.map((k) => (
              <option key={k.value} value={k.value}>
                {k.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Signature Algorithm" name="signatureAlgorithm" error={err.signatureAlgorithm}>
          <select className="input" {...invalid(state, "signatureAlgorithm", "SHA-256")}>
            {SIGNATURE_ALGORITHMS.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </Field>
        <Field label="Validity Period (in years)" name="validityYears" error={err.validityYears}>
          <input className="input" type="number" min={1} max={30} {...invalid(state, "validityYears", "5")} />
        </Field>
      </fieldset>
      <SettingsSections state={state} mailConfigured={mailConfigured} />
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}

export function CaSettingsForm({ id, initial, readOnly, mailConfigured }: { id: string; initial: Settings; readOnly: boolean; mailConfigured: boolean }) {
  const [state, action] = useActionState(updateCaSettingsAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-6" aria-label="Certificate Authority settings">
      <input type="hidden" name="id" value={id} />
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-6">
        <SettingsSections state={state} initial={initial} mailConfigured={mailConfigured} />
      </fieldset>
      {!readOnly && <SubmitButton>Update</SubmitButton>}
    </form>
  );
}
