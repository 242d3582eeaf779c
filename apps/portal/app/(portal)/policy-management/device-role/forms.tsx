"use client";
import { useActionState, useState } from "react";
import { Field, FormMessage, SubmitButton, invalid } from "@/components/form";
import { RowField, type Row, useRows } from "@/components/rows";
import { POSTURE_CHECKS } from "@attested/policy/options";
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
  r: { id: string; name: string; description: string; keyAttestationPlatformId: string | null; postureConditions: Posture[] };
  platforms: { id: string; name: string }[];
  active: string;
  readOnly: boolean;
}) {
  const { state, pending, formProps } = useTabForm(updateDeviceRoleAction);
  const err = state.fieldErrors ?? {};
  const rows = useRows<Posture>(r.postureConditions.length ? r.postureConditions : [NONE], state, "postureConditions", NONE);
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
          <fieldset aria-label="Attested posture" className="min-w-0 space-y-3 rounded-lg border border-slate-200 p-4 md:col-span-2">
            <div className="flex items-center justify-between">
              <h3 className="text-sm font-semibold text-slate-800">Attested posture</h3>
              {!readOnly && (
                <button type="button" className="btn-secondary" onClick={rows.add}>
                  Add posture condition
                </button>
              )}
            </div>
            <p className="text-xs text-slate-500">
              What Apple attested about the device, checked at enrollment before the device lookup; every condition must hold. A rule for macOS does not apply
              to an iPhone or iPad, and the reverse: add &quot;Platform is&quot; to admit one platform only. None: no posture condition.
            </p>
            {rows.rows.map((row, i) => (
              <PostureRow key={row.key} index={i} row={row} rows={rows} readOnly={readOnly} removable={rows.rows.length > 1} />
            ))}
          </fieldset>
        </div>
      </fieldset>
      {!readOnly && <UpdateButton pending={pending} />}
    </form>
  );
}

type Posture = { check: string; value: string | undefined };
const NONE: Posture = { check: "", value: "" };

/** One posture condition: the value is a version, a list or one of the check's choices. */
function PostureRow({
  index: i,
  row,
  rows,
  readOnly,
  removable,
}: {
  index: number;
  row: Row<Posture>;
  rows: ReturnType<typeof useRows<Posture>>;
  readOnly: boolean;
  removable: boolean;
}) {
  const [check, setCheck] = useState(row.init.check);
  const def = POSTURE_CHECKS.find((c) => c.value === check);
  const f = (k: keyof Posture) => rows.field(i, k, row);
  const value = f("value");
  return (
    <fieldset aria-label={`Posture condition ${i + 1}`} className="min-w-0 grid grid-cols-1 items-start gap-3 md:grid-cols-[18rem_1fr_auto]">
      <RowField label="Condition" htmlFor={f("check").id} error={rows.error(i, "check")} errorId={`postureConditions.${i}.check-error`}>
        <select className="input" {...f("check")} onChange={(e) => setCheck(e.target.value)}>
          <option value="">None</option>
          {POSTURE_CHECKS.map((c) => (
            <option key={c.value} value={c.value}>
              {c.label}
            </option>
          ))}
        </select>
      </RowField>
      <RowField label="Value" htmlFor={value.id} error={rows.error(i, "value")} errorId={`postureConditions.${i}.value-error`}>
        {def?.kind === "choice" ? (
          // Keyed by the check: a new check starts from its own first choice.
          <select
            key={check}
            className="input"
            {...value}
            defaultValue={def.choices.some((c) => c.value === value.defaultValue) ? value.defaultValue : undefined}
          >
            {def.choices.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        ) : (
          <input
            className="input"
            {...value}
            disabled={!def}
            placeholder={def?.kind === "version" ? "e.g. 14.0" : def?.kind === "list" ? "e.g. J514sAP, J516sAP" : ""}
          />
        )}
      </RowField>
      {!readOnly && removable && (
        <button type="button" className="btn-secondary mt-6" aria-label={`Remove posture condition ${i + 1}`} onClick={() => rows.remove(row.key)}>
          Remove
        </button>
      )}
    </fieldset>
  );
}
