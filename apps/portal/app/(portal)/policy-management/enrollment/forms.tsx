"use client";
import { useActionState } from "react";
import { Field, FormMessage, SubmitButton, invalid } from "@/components/form";
import { UpdateButton, useTabForm } from "@/components/tab-form";
import { emptyForm } from "@/lib/form-state";
import { DEFAULT_PRIORITY } from "@attested/policy/options";
import { createEnrollmentPolicyAction, updateEnrollmentPolicyAction } from "./actions";
import { ENROLLMENT_TABS } from "./tabs";

const priorityHint = "When several Enrollment Policies match a device, the lowest number wins (then the name).";

export function AddEnrollmentPolicyForm() {
  const [state, action] = useActionState(createEnrollmentPolicyAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate action={action} className="space-y-6" aria-label="Add Enrollment Policy">
      <FormMessage state={state} />
      <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
        <legend className="px-1 text-sm font-semibold text-slate-800">Basic</legend>
        <Field label="Name" name="name" error={err.name}>
          <input className="input" {...invalid(state, "name")} />
        </Field>
        <Field label="Description" name="description" error={err.description}>
          <input className="input" {...invalid(state, "description")} />
        </Field>
        <Field label="Priority" name="priority" error={err.priority} hint={priorityHint}>
          <input className="input" inputMode="numeric" {...invalid(state, "priority", String(DEFAULT_PRIORITY))} />
        </Field>
      </fieldset>
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}

type Choice = { id: string; name: string };

export function EnrollmentPolicyForm({
  p,
  roles,
  deviceRoles,
  cas,
  templates,
  active,
  readOnly,
}: {
  p: {
    id: string;
    name: string;
    description: string;
    priority: number;
    policyWorkflowId: string | null;
    deviceRoleId: string | null;
    caId: string | null;
    templateId: string | null;
  };
  roles: Choice[];
  deviceRoles: Choice[];
  cas: Choice[];
  templates: Choice[];
  active: string;
  readOnly: boolean;
}) {
  const { state, pending, formProps } = useTabForm(updateEnrollmentPolicyAction);
  const err = state.fieldErrors ?? {};
  const panel = (id: string) => ({ role: "tabpanel" as const, hidden: active !== id, "aria-label": ENROLLMENT_TABS.find((t) => t.id === id)?.label });
  const select = (label: string, name: keyof typeof p, choices: Choice[], hint: string) => (
    <Field label={label} name={name} error={err[name]} hint={hint}>
      <select className="input" {...invalid(state, name, (p[name] as string | null) ?? "")}>
        <option value="">Select…</option>
        {choices.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
      </select>
    </Field>
  );
  return (
    <form noValidate {...formProps} className="space-y-6" aria-label="Enrollment Policy">
      <input type="hidden" name="id" value={p.id} />
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-6">
        <div {...panel("basic")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field label="Name" name="name" error={err.name}>
            <input className="input" {...invalid(state, "name", p.name)} />
          </Field>
          <Field label="Description" name="description" error={err.description}>
            <input className="input" {...invalid(state, "description", p.description)} />
          </Field>
          <Field label="Priority" name="priority" error={err.priority} hint={priorityHint}>
            <input className="input" inputMode="numeric" {...invalid(state, "priority", String(p.priority))} />
          </Field>
        </div>
        <div {...panel("conditions")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          {select("Role", "policyWorkflowId", roles, "The Policy Workflow whose Core Provider must find the device.")}
          {select("Device Role", "deviceRoleId", deviceRoles, "The Device Role whose Key Attestation Platform must have verified the device.")}
        </div>
        <div {...panel("settings")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          {select("Use Certificate Authority", "caId", cas, "The CA that issues the certificate.")}
          {select("Use Certificate Template", "templateId", templates, "Its Subject and SANs may use ${/device/...} from the lookup.")}
        </div>
      </fieldset>
      {!readOnly && <UpdateButton pending={pending} />}
    </form>
  );
}
