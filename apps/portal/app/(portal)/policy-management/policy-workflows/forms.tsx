"use client";
import { useActionState, useState } from "react";
import { Field, FormMessage, SubmitButton, invalid } from "@/components/form";
import { RowField, useRows } from "@/components/rows";
import { UpdateButton, useTabForm } from "@/components/tab-form";
import { emptyForm } from "@/lib/form-state";
import { ANY, CONDITION_OPERATORS, GROUPS } from "@attested/policy/options";
import { createWorkflowAction, updateWorkflowAction } from "./actions";
import { WORKFLOW_TABS } from "./tabs";

export function AddWorkflowForm() {
  const [state, action] = useActionState(createWorkflowAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate action={action} className="space-y-6" aria-label="Add Policy Workflow">
      <FormMessage state={state} />
      <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
        <legend className="px-1 text-sm font-semibold text-slate-800">Basic</legend>
        <Field label="Name" name="name" error={err.name}>
          <input className="input" {...invalid(state, "name")} />
        </Field>
        <Field label="Display Description" name="description" error={err.description}>
          <input className="input" {...invalid(state, "description")} />
        </Field>
      </fieldset>
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}

type Cond = { attribute: string; operator: string; value: string | undefined };

export interface WorkflowFormProps {
  w: { id: string; name: string; description: string; corePlatformId: string | null; conditions: Cond[] };
  /** Core Providers with the attribute names each maps (the choices of the Attribute field). */
  corePlatforms: { id: string; name: string; attributes: string[] }[];
  active: string;
  readOnly: boolean;
}

export function WorkflowForm({ w, corePlatforms, active, readOnly }: WorkflowFormProps) {
  const { state, pending, formProps } = useTabForm(updateWorkflowAction);
  const err = state.fieldErrors ?? {};
  const [providerId, setProviderId] = useState(state.values?.corePlatformId ?? w.corePlatformId ?? "");
  const saved = w.conditions.length ? w.conditions : [{ attribute: ANY, operator: "equals", value: "" }];
  const conds = useRows<Cond>(saved, state, "attributeConditions", { attribute: ANY, operator: "equals", value: "" });
  const attributes = corePlatforms.find((c) => c.id === providerId)?.attributes ?? [];
  // The Attribute chosen per row (by row key): a row left at ANY is no condition, so it has nothing to fill in.
  const [chosen, setChosen] = useState<Record<number, string>>({});
  const panel = (id: string) => ({ role: "tabpanel" as const, hidden: active !== id, "aria-label": WORKFLOW_TABS.find((t) => t.id === id)?.label });

  return (
    <form noValidate {...formProps} className="space-y-6" aria-label="Policy Workflow">
      <input type="hidden" name="id" value={w.id} />
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-6">
        <div {...panel("basic")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field label="Name" name="name" error={err.name}>
            <input className="input" {...invalid(state, "name", w.name)} />
          </Field>
          <Field label="Display Description" name="description" error={err.description}>
            <input className="input" {...invalid(state, "description", w.description)} />
          </Field>
        </div>

        <div {...panel("conditions")} className="space-y-4">
          <div className="grid grid-cols-1 gap-4 md:grid-cols-2">
            <Field
              label="Core Provider"
              name="corePlatformId"
              error={err.corePlatformId}
              hint="The identity provider that looks the device up (Integration Hub > Core Platforms)."
            >
              <select className="input" {...invalid(state, "corePlatformId", w.corePlatformId ?? "")} onChange={(e) => setProviderId(e.target.value)}>
                <option value="">Select…</option>
                {corePlatforms.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </Field>
          </div>
          <fieldset aria-label="Attributes/Groups" className="min-w-0 space-y-3 rounded-lg border border-slate-200 p-4">
            <div className="flex items-center justify-between">
              <h3 className="text-sm font-semibold text-slate-800">Attributes/Groups</h3>
              {!readOnly && (
                <button type="button" className="btn-secondary" onClick={conds.add}>
                  Add condition
                </button>
              )}
            </div>
            <p className="text-xs text-slate-500">
              ANY: every device the Core Provider finds qualifies. Otherwise every condition must hold for the looked-up attributes (Attribute Mapping) or
              groups.
            </p>
            {conds.rows.map((row, i) => {
              const f = (k: keyof Cond) => conds.field(i, k, row);
              const current = row.init.attribute;
              const any = (chosen[row.key] ?? current ?? ANY) === ANY;
              const choices = [...attributes, ...(current && current !== ANY && current !== GROUPS && !attributes.includes(current) ? [current] : [])];
              return (
                <fieldset
                  key={row.key}
                  aria-label={`Condition ${i + 1}`}
                  className="min-w-0 grid grid-cols-1 items-start gap-3 md:grid-cols-[1fr_14rem_1fr_auto]"
                >
                  <RowField
                    label="Attribute"
                    htmlFor={f("attribute").id}
                    error={conds.error(i, "attribute")}
                    errorId={`attributeConditions.${i}.attribute-error`}
                  >
                    <select className="input" {...f("attribute")} onChange={(e) => setChosen((c) => ({ ...c, [row.key]: e.target.value }))}>
                      <option value={ANY}>ANY</option>
                      {choices.map((a) => (
                        <option key={a} value={a}>
                          {a}
                        </option>
                      ))}
                      <option value={GROUPS}>Groups</option>
                    </select>
                  </RowField>
                  <RowField label="Condition" htmlFor={f("operator").id} error={conds.error(i, "operator")} errorId={`attributeConditions.${i}.operator-error`}>
                    <select className="input" {...f("operator")} disabled={any} title={any ? "ANY: no condition to set" : undefined}>
                      {CONDITION_OPERATORS.map((o) => (
                        <option key={o.value} value={o.value}>
                          {o.label}
                        </option>
                      ))}
                    </select>
                  </RowField>
                  <RowField label="Value" htmlFor={f("value").id} error={conds.error(i, "value")} errorId={`attributeConditions.${i}.value-error`}>
                    <input className="input" {...f("value")} disabled={any} title={any ? "ANY: no condition to set" : undefined} />
                  </RowField>
                  {!readOnly && conds.rows.length > 1 && (
                    <button type="button" className="btn-secondary mt-6" aria-label={`Remove condition ${i + 1}`} onClick={() => conds.remove(row.key)}>
                      Remove
                    </button>
                  )}
                </fieldset>
              );
            })}
          </fieldset>
        </div>
      </fieldset>
      {!readOnly && <UpdateButton pending={pending} />}
    </form>
  );
}
