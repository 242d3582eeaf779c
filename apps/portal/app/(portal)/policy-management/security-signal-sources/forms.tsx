"use client";
import { startTransition, useActionState, useRef, useState } from "react";
import { Field, FormMessage, SubmitButton, invalid } from "@/components/form";
import { LookupReport, type LookupReportData } from "@/components/lookup-report";
import { UpdateButton, useTabForm } from "@/components/tab-form";
import { emptyForm } from "@/lib/form-state";
import { IDENTITY_ATTRIBUTES, IDENTITY_TYPES, LOOKUP_PURPOSES } from "@attested/policy/options";
import { createSignalSourceAction, updateSignalSourceAction, validateSignalSourceAction, type ValidateState } from "./actions";
import { SIGNAL_SOURCE_TABS } from "./tabs";

export function AddSignalSourceForm() {
  const [state, action] = useActionState(createSignalSourceAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate action={action} className="space-y-6" aria-label="Add Security Signal Source">
      <FormMessage state={state} />
      <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
        <legend className="px-1 text-sm font-semibold text-slate-800">Basic</legend>
        <Field label="Name" name="name" error={err.name}>
          <input className="input" {...invalid(state, "name")} />
        </Field>
        <Field label="Description" name="description" error={err.description}>
          <input className="input" {...invalid(state, "description")} />
        </Field>
        <Field
          label="Lookup Purpose"
          name="lookupPurpose"
          error={err.lookupPurpose}
          hint={
            <>
              Purpose of Account Lookup.{" "}
              {LOOKUP_PURPOSES.map((p) => (
                <span key={p.value} className="block">
                  {p.label}: {p.hint}
                </span>
              ))}
            </>
          }
        >
          <select className="input" {...invalid(state, "lookupPurpose", "")}>
            <option value="" disabled>
              Select…
            </option>
            {LOOKUP_PURPOSES.map((p) => (
              <option key={p.value} value={p.value}>
                {p.label}
              </option>
            ))}
          </select>
        </Field>
      </fieldset>
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}

export interface SignalSourceFormProps {
  s: {
    id: string;
    name: string;
    description: string;
    lookupPurpose: string;
    corePlatformId: string | null;
    identityType: string;
    identityAttribute: string;
    revokeOnFailure: boolean;
    deviceRoleIds: string[];
  };
  corePlatforms: { id: string; name: string }[];
  deviceRoles: { id: string; name: string }[];
  conditionLabels: Record<string, string>;
  active: string;
  readOnly: boolean;
}

export function SignalSourceForm({ s, corePlatforms, deviceRoles, conditionLabels, active, readOnly }: SignalSourceFormProps) {
  const { state, pending, formRef, formProps } = useTabForm(updateSignalSourceAction);
  const [check, validate, validating] = useActionState(validateSignalSourceAction, emptyForm as ValidateState);
  const dialogRef = useRef<HTMLDialogElement>(null);
  const err = state.fieldErrors ?? {};
  const [identityType, setIdentityType] = useState(state.values?.identityType ?? s.identityType);
  const purpose = LOOKUP_PURPOSES.find((p) => p.value === s.lookupPurpose);
  const panel = (id: string) => ({ role: "tabpanel" as const, hidden: active !== id, "aria-label": SIGNAL_SOURCE_TABS.find((t) => t.id === id)?.label });
  const attributeOptions = identityType === "csr" || identityType === "certificate" ? IDENTITY_ATTRIBUTES[identityType] : null;
  // Keep the stored attribute when the type is unchanged; another type starts at its first choice.
  const attributeDefault = identityType === s.identityType ? s.identityAttribute : (attributeOptions?.[0]?.value ?? "");

  const runValidate = () => {
    if (!formRef.current) return;
    const data = new FormData(formRef.current);
    startTransition(() => validate(data));
  };

  return (
    <form noValidate {...formProps} className="space-y-6" aria-label="Security Signal Source">
      <input type="hidden" name="id" value={s.id} />
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-6">
        <div {...panel("basic")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field label="Name" name="name" error={err.name}>
            <input className="input" {...invalid(state, "name", s.name)} />
          </Field>
          <Field label="Description" name="description" error={err.description}>
            <input className="input" {...invalid(state, "description", s.description)} />
          </Field>
          <Field label="Lookup Purpose" name="purposeShown" hint={`${purpose?.hint ?? ""} Fixed once saved.`}>
            <input id="purposeShown" className="input" value={purpose?.label ?? s.lookupPurpose} readOnly disabled />
          </Field>
        </div>

        <div {...panel("conditions")} className="space-y-3">
          <fieldset className="space-y-2 rounded-lg border border-slate-200 p-4" aria-describedby="device-roles-hint">
            <legend className="px-1 text-sm font-semibold text-slate-800">Device Role</legend>
            <p id="device-roles-hint" className="text-xs text-slate-500">
              The Device Roles this source serves. None selected means ANY. When several sources fit an enrollment, one naming its Device Role is preferred.
            </p>
            {deviceRoles.length === 0 && <p className="text-sm text-slate-500">No Device Roles yet: this source serves ANY.</p>}
            {deviceRoles.map((r) => (
              <label key={r.id} className="flex items-center gap-2">
                <input type="checkbox" name="deviceRoleIds" value={r.id} defaultChecked={s.deviceRoleIds.includes(r.id)} className="h-4 w-4" />
                {r.name}
              </label>
            ))}
            {err.deviceRoleIds && (
              <p role="alert" className="text-xs font-medium text-red-600">
                {err.deviceRoleIds}
              </p>
            )}
          </fieldset>
        </div>

        <div {...panel("settings")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field
            label="Identity Provider Lookup"
            name="corePlatformId"
            error={err.corePlatformId}
            hint="The Generic HTTP Signal Source that looks the device up."
          >
            <select className="input" {...invalid(state, "corePlatformId", s.corePlatformId ?? "")}>
              <option value="">Select…</option>
              {corePlatforms.map((c) => (
                <option key={c.id} value={c.id}>
                  {c.name}
                </option>
              ))}
            </select>
          </Field>
          <Field
            label="Identity"
            name="identityType"
            error={err.identityType}
            hint={
              s.lookupPurpose === "radius-authentication"
                ? "Certificate: an attribute of the presented certificate. Custom: any /certificate/... path."
                : "CSR: an attribute of the enrollment request (the attested serial by default). Custom: any /attestation, /csr, /account or /platform path."
            }
          >
            <select className="input" {...invalid(state, "identityType", s.identityType)} onChange={(e) => setIdentityType(e.target.value)}>
              {IDENTITY_TYPES.map((t) => (
                <option key={t.value} value={t.value}>
                  {t.label}
                </option>
              ))}
            </select>
          </Field>
          <Field label={identityType === "custom" ? "Custom lookup attribute" : "Lookup attribute"} name="identityAttribute" error={err.identityAttribute}>
            {attributeOptions ? (
              <select key={identityType} className="input" {...invalid(state, "identityAttribute", attributeDefault)}>
                {attributeOptions.map((a) => (
                  <option key={a.value} value={a.value}>
                    {a.label}
                  </option>
                ))}
              </select>
            ) : (
              <input
                key={identityType}
                className="input font-mono"
                placeholder="/csr/subject/organizationalunit"
                {...invalid(state, "identityAttribute", attributeDefault)}
              />
            )}
          </Field>
          <label className="flex items-center gap-2 md:col-span-2">
            <input
              id="revokeOnFailure"
              type="checkbox"
              name="revokeOnFailure"
              defaultChecked={state.values ? state.values.revokeOnFailure === "on" : s.revokeOnFailure}
              className="h-4 w-4"
            />
            Revoke On Failure
            <span className="text-xs font-normal text-slate-500">
              (revoke the device&apos;s certificate when the lookup answers that it is not there; a lookup that fails to answer never revokes)
            </span>
          </label>
          {!readOnly && (
            <div className="md:col-span-2">
              <button type="button" className="btn-secondary" onClick={() => dialogRef.current?.showModal()}>
                Validate Configuration
              </button>
            </div>
          )}
        </div>

        <dialog
          ref={dialogRef}
          aria-labelledby="validate-title"
          className="m-auto max-h-[90vh] w-full max-w-3xl overflow-y-auto rounded-lg p-0 shadow-xl backdrop:bg-slate-900/40"
        >
          <div className="space-y-4 p-6">
            <div className="flex items-center justify-between">
              <h2 id="validate-title" className="text-lg font-semibold">
                Validate Configuration
              </h2>
              <button type="button" className="btn-secondary" onClick={() => dialogRef.current?.close()}>
                Close
              </button>
            </div>
            <div className="flex flex-wrap items-start gap-3">
              <div className="min-w-64 flex-1">
                <Field
                  label="Enter a valid identity"
                  name="identity"
                  error={check.fieldErrors?.identity}
                  hint="e.g. a device serial number; it is looked up as the Identity above would supply it."
                >
                  <input className="input font-mono" id="identity" name="identity" aria-invalid={check.fieldErrors?.identity ? true : undefined} />
                </Field>
              </div>
              <button type="button" className="btn-primary mt-6" disabled={validating} onClick={runValidate}>
                {validating ? "Validating…" : "Validate"}
              </button>
            </div>
            {check.error && (
              <FormMessage
                state={{
                  error:
                    Object.entries(check.fieldErrors ?? {})
                      .filter(([k]) => k !== "identity")
                      .map(([, v]) => v)
                      .join(" ") || check.error,
                }}
              />
            )}
            {check.report && <LookupReport report={check.report as unknown as LookupReportData} conditionLabels={conditionLabels} />}
          </div>
        </dialog>
      </fieldset>
      {!readOnly && <UpdateButton pending={pending} />}
    </form>
  );
}
