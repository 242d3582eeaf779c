"use client";
import { useActionState } from "react";
import { Field, FormMessage, SubmitButton, invalid } from "@/components/form";
import { UpdateButton, useTabForm } from "@/components/tab-form";
import { emptyForm } from "@/lib/form-state";
import { createDeviceRoleAction, updateDeviceRoleAction } from "./actions";
import { DEVICE_ROLE_TABS } from "./tabs";

export function AddDeviceRoleForm() {
  const [state, action] = useActionState(createDeviceRoleAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate action={action} className="space-y-6" aria-label="Add Device Role Policy">
      <FormMessage state={state} />
      <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
        <legend className="px-1 text-sm font-semibold text-slate-800">Basic</legend>
        <Field label="Name" name="name" error={err.name}>
          <input className="input" {...invalid(state, "name")} />
        </Field>
        <Field label="Description" name="description" error={err.description}>
          <input className="input" {...invalid(state, "description")} />
        </Field>
      </fieldset>
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}

export function DeviceRoleForm({
  r,
  platforms,
  active,
  readOnly,
}: {
  r: { id: string; name: string; description: string; keyAttestationPlatformId: string | null };
  platforms: { id: string; name: string }[];
  active: string;
  readOnly: boolean;
}) {
  const { state, pending, formProps } = useTabForm(updateDeviceRoleAction);
  const err = state.fieldErrors ?? {};
  const panel = (id: string) => ({ role: "tabpanel" as const, hidden: active !== id, "aria-label": DEVICE_ROLE_TABS.find((t) => t.id === id)?.label });
  return (
    <form noValidate {...formProps} className="space-y-6" aria-label="Device Role">
      <input type="hidden" name="id" value={r.id} />
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-6">
        <div {...panel("basic")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field label="Name" name="name" error={err.name}>
            <input className="input" {...invalid(state, "name", r.name)} />
          </Field>
          <Field label="Description" name="description" error={err.description}>
            <input className="input" {...invalid(state, "description", r.description)} />
          </Field>
        </div>
        <div {...panel("conditions")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field
            label="Identity"
            name="keyAttestationPlatformId"
            error={err.keyAttestationPlatformId}
            hint="The Key Attestation Platform that must have verified the device's key."
          >
            <select className="input" {...invalid(state, "keyAttestationPlatformId", r.keyAttestationPlatformId ?? "")}>
              <option value="">Select…</option>
              {platforms.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name}
                </option>
              ))}
            </select>
          </Field>
        </div>
      </fieldset>
      {!readOnly && <UpdateButton pending={pending} />}
    </form>
  );
}
