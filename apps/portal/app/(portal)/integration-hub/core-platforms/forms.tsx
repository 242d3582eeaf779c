"use client";
import { startTransition, useActionState, useState } from "react";
import { Field, FormMessage, SubmitButton, invalid } from "@/components/form";
import { LookupReport, type LookupReportData } from "@/components/lookup-report";
import { RowField, useRows } from "@/components/rows";
import { UpdateButton, useTabForm } from "@/components/tab-form";
import { emptyForm } from "@/lib/form-state";
import { CORE_PLATFORM_TYPES } from "@attested/policy/options";
import { CORE_PLATFORM_TABS } from "./tabs";
import { createCorePlatformAction, updateCorePlatformAction, validateCorePlatformAction, type ValidateState } from "./actions";

/** A vendor preset as the Add form shows it (built on the server from @attested/integrations' PRESETS). */
export interface PresetOption {
  id: string;
  label: string;
  credential: string;
  oauth: boolean;
  fields: { name: string; label: string; hint: string; default?: string }[];
}

export function AddCorePlatformForm({ presets }: { presets: PresetOption[] }) {
  const [state, action] = useActionState(createCorePlatformAction, emptyForm);
  const err = state.fieldErrors ?? {};
  const [presetId, setPresetId] = useState(state.values?.preset ?? "");
  const preset = presets.find((p) => p.id === presetId);
  return (
    <form noValidate action={action} className="space-y-6" aria-label="Add Core Platform">
      <FormMessage state={state} />
      <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
        <legend className="px-1 text-sm font-semibold text-slate-800">Basic</legend>
        <Field label="Name" name="name" error={err.name}>
          <input className="input" {...invalid(state, "name")} />
        </Field>
        <Field label="Description" name="description" error={err.description}>
          <input className="input" {...invalid(state, "description")} />
        </Field>
        <Field label="Type" name="type" error={err.type}>
          <select className="input" {...invalid(state, "type", "")}>
            <option value="" disabled>
              Select…
            </option>
            {CORE_PLATFORM_TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </Field>
        <Field
          label="Preset"
          name="preset"
          error={err.preset}
          hint="Fills the URI, authentication, Response Validation and Attribute Mapping with the vendor's API"
        >
          <select className="input" {...invalid(state, "preset", "")} onChange={(e) => setPresetId(e.target.value)}>
            <option value="">None: set the tabs by hand</option>
            {presets.map((p) => (
              <option key={p.id} value={p.id}>
                {p.label}
              </option>
            ))}
          </select>
        </Field>
      </fieldset>
      {preset && (
        <fieldset aria-label={`${preset.label} tenant`} className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
          <legend className="px-1 text-sm font-semibold text-slate-800">
            {preset.label}: tenant and {preset.credential}
          </legend>
          {preset.fields.map((f) => (
            <Field key={f.name} label={f.label} name={f.name} error={err[f.name]} hint={f.hint}>
              <input className="input font-mono" autoComplete="off" {...invalid(state, f.name, f.default ?? "")} />
            </Field>
          ))}
          {preset.oauth && (
            <Field label="Client ID" name="oauthClientId" error={err.oauthClientId}>
              <input className="input font-mono" autoComplete="off" {...invalid(state, "oauthClientId", "")} />
            </Field>
          )}
          <Field
            label={preset.oauth ? "Client Secret" : "Bearer Token"}
            name="secret"
            error={err.secret}
            hint="Stored encrypted; never shown again, only replaced."
          >
            <input className="input font-mono" type="password" autoComplete="new-password" {...invalid(state, "secret", "")} />
          </Field>
        </fieldset>
      )}
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}

type Rule = { path: string; condition: string; expected: string | undefined };
type Mapping = { path: string; attribute: string };

export interface CorePlatformFormProps {
  cp: {
    id: string;
    name: string;
    description: string;
    authMethod: string;
    hasSecret: boolean;
    basicUsername: string | null;
    apiKeyHeader: string | null;
    oauthTokenUrl: string | null;
    oauthClientId: string | null;
    oauthScope: string | null;
    uri: string;
    timeoutMs: number;
    validationRules: Rule[];
    attributeMappings: Mapping[];
    groupsPath: string | null;
    listUri: string | null;
    listPaging: string | null;
    listItemsPath: string | null;
    listSerialPath: string | null;
    listPageSize: number;
  };
  active: string;
  readOnly: boolean;
  authMethods: { value: string; label: string }[];
  secretLabels: Record<string, string | null>;
  listPagings: { value: string; label: string }[];
  conditions: { value: string; label: string }[];
  unpinnedWarning: string | null;
}

/**
 * The Configuration, API, Attribute Mapping and Groups tabs are panels of one form: switching tabs
 * keeps what was typed (the guide enters the token, then the URI, then clicks Update once).
 */
export function CorePlatformForm({ cp, active, readOnly, authMethods, secretLabels, listPagings, conditions, unpinnedWarning }: CorePlatformFormProps) {
  const { state, pending, formRef, formProps } = useTabForm(updateCorePlatformAction);
  const [check, validate, validating] = useActionState(validateCorePlatformAction, emptyForm as ValidateState);
  const err = state.fieldErrors ?? {};
  const verr = check.fieldErrors ?? {};
  const [method, setMethod] = useState(state.values?.authMethod ?? cp.authMethod);
  const rules = useRows<Rule>(
    cp.validationRules.map((r) => ({ ...r, expected: r.expected ?? "" })),
    state,
    "validationRules",
    { path: "", condition: "exists", expected: "" },
  );
  const mappings = useRows<Mapping>(cp.attributeMappings, state, "attributeMappings", { path: "", attribute: "" });
  const secretLabel = secretLabels[method];
  const conditionLabels = Object.fromEntries(conditions.map((c) => [c.value, c.label]));

  const runValidate = () => {
    if (!formRef.current) return;
    const data = new FormData(formRef.current);
    startTransition(() => validate(data));
  };
  const panel = (id: string) => ({ role: "tabpanel" as const, hidden: active !== id, "aria-label": CORE_PLATFORM_TABS.find((t) => t.id === id)?.label });

  return (
    <form noValidate {...formProps} className="space-y-6" aria-label="Core Platform">
      <input type="hidden" name="id" value={cp.id} />
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="space-y-6">
        <div {...panel("basic")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field label="Name" name="name" error={err.name}>
            <input className="input" {...invalid(state, "name", cp.name)} />
          </Field>
          <Field label="Description" name="description" error={err.description}>
            <input className="input" {...invalid(state, "description", cp.description)} />
          </Field>
          <Field label="Type" name="typeShown">
            <input id="typeShown" className="input" value="Generic HTTP" readOnly disabled />
          </Field>
        </div>

        <div {...panel("configuration")} className="grid grid-cols-1 gap-4 md:grid-cols-2">
          <Field label="Authentication Method" name="authMethod" error={err.authMethod}>
            <select className="input" {...invalid(state, "authMethod", cp.authMethod)} onChange={(e) => setMethod(e.target.value)}>
              {authMethods.map((m) => (
                <option key={m.value} value={m.value}>
                  {m.label}
                </option>
              ))}
            </select>
          </Field>
          {method === "basic" && (
            <Field label="User name" name="basicUsername" error={err.basicUsername}>
              <input className="input" autoComplete="off" {...invalid(state, "basicUsername", cp.basicUsername ?? "")} />
            </Field>
          )}
          {method === "api-key" && (
            <Field label="Header name" name="apiKeyHeader" error={err.apiKeyHeader} hint="e.g. X-API-Key">
              <input className="input" autoComplete="off" {...invalid(state, "apiKeyHeader", cp.apiKeyHeader ?? "")} />
            </Field>
          )}
          {method === "oauth2" && (
            <>
              <Field
                label="Token URL"
                name="oauthTokenUrl"
                error={err.oauthTokenUrl}
                hint={
                  <>
                    Jamf Pro: <code>{"https://<instance>.jamfcloud.com/api/oauth/token"}</code>; Intune:{" "}
                    <code>{"https://login.microsoftonline.com/<tenant id>/oauth2/v2.0/token"}</code>
                  </>
                }
              >
                <input className="input font-mono" autoComplete="off" {...invalid(state, "oauthTokenUrl", cp.oauthTokenUrl ?? "")} />
              </Field>
              <Field label="Client ID" name="oauthClientId" error={err.oauthClientId}>
                <input className="input font-mono" autoComplete="off" {...invalid(state, "oauthClientId", cp.oauthClientId ?? "")} />
              </Field>
              <Field
                label="Scope"
                name="oauthScope"
                error={err.oauthScope}
                hint={
                  <>
                    Space separated; empty sends none (Jamf Pro). Intune: <code>https://graph.microsoft.com/.default</code>
                  </>
                }
              >
                <input className="input font-mono" autoComplete="off" {...invalid(state, "oauthScope", cp.oauthScope ?? "")} />
              </Field>
            </>
          )}
          {secretLabel && (
            <Field
              label={secretLabel}
              name="secret"
              error={err.secret ?? verr.secret}
              hint={
                cp.hasSecret && method === cp.authMethod
                  ? `A ${secretLabel} is stored (encrypted). Leave empty to keep it; it is never shown again.`
                  : "Stored encrypted; never shown again, only replaced."
              }
            >
              <input className="input font-mono" type="password" autoComplete="new-password" {...invalid(state, "secret", "")} />
            </Field>
          )}
          <fieldset aria-label="Fleet Inventory" className="min-w-0 space-y-3 rounded-lg border border-slate-200 p-4 md:col-span-2">
            <h3 className="text-sm font-semibold text-slate-800">Fleet Inventory (optional)</h3>
            <p className="text-xs text-slate-500">
              How Revoke On Failure lists every device, page by page, instead of one lookup per certificate. Leave the List URI empty to look devices up one by
              one. Enrollment and RADIUS always look up the one device.
            </p>
            <div className="grid grid-cols-1 gap-4 md:grid-cols-[1fr_16rem]">
              <Field
                label="List URI"
                name="listUri"
                error={err.listUri}
                hint={
                  <>
                    Same host as the URI, without paging parameters. Kandji: <code>{"https://<subdomain>.api.kandji.io/api/v1/devices"}</code>
                  </>
                }
              >
                <input className="input font-mono" {...invalid(state, "listUri", cp.listUri ?? "")} />
              </Field>
              <Field label="Paging" name="listPaging" error={err.listPaging}>
                <select className="input" {...invalid(state, "listPaging", cp.listPaging ?? "")}>
                  <option value="">None</option>
                  {listPagings.map((p) => (
                    <option key={p.value} value={p.value}>
                      {p.label}
                    </option>
                  ))}
                </select>
              </Field>
            </div>
            <div className="grid grid-cols-1 gap-4 md:grid-cols-[1fr_1fr_10rem]">
              <Field
                label="Items Path"
                name="listItemsPath"
                error={err.listItemsPath}
                hint="Where a page's devices are: Kandji data, Jamf data.results, Graph data.value"
              >
                <input className="input font-mono" {...invalid(state, "listItemsPath", cp.listItemsPath ?? "")} />
              </Field>
              <Field
                label="Serial Number Path"
                name="listSerialPath"
                error={err.listSerialPath}
                hint="In each device, as data: Kandji data.serial_number, Graph data.serialNumber"
              >
                <input className="input font-mono" {...invalid(state, "listSerialPath", cp.listSerialPath ?? "")} />
              </Field>
              <Field label="Page Size" name="listPageSize" error={err.listPageSize} hint="Kandji: at most 300">
                <input className="input" inputMode="numeric" {...invalid(state, "listPageSize", String(cp.listPageSize))} />
              </Field>
            </div>
          </fieldset>
        </div>

        <div {...panel("api")} className="space-y-4">
          <div className="grid grid-cols-1 gap-4 md:grid-cols-[1fr_12rem]">
            <Field
              label="URI"
              name="uri"
              error={err.uri}
              hint={
                <>
                  Variables: <code>{"${identity}"}</code> (the lookup key, e.g. the serial number) and <code>{"${/attestation/serialNumber}"}</code>-style
                  paths. Kandji: <code>{"https://<subdomain>.api.kandji.io/api/v1/devices?serial_number=${identity}"}</code>
                </>
              }
            >
              <input className="input font-mono" {...invalid(state, "uri", cp.uri)} />
            </Field>
            <Field label="Timeout (ms)" name="timeoutMs" error={err.timeoutMs}>
              <input className="input" inputMode="numeric" {...invalid(state, "timeoutMs", String(cp.timeoutMs))} />
            </Field>
          </div>
          {unpinnedWarning && (
            <p role="alert" className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-xs text-amber-900" data-testid="unpinned-warning">
              {unpinnedWarning}
            </p>
          )}
          <fieldset aria-label="Response Validation" className="min-w-0 space-y-3 rounded-lg border border-slate-200 p-4">
            <div className="flex items-center justify-between">
              <h3 className="text-sm font-semibold text-slate-800">Response Validation</h3>
              {!readOnly && (
                <button type="button" className="btn-secondary" onClick={rules.add}>
                  Add
                </button>
              )}
            </div>
            <p className="text-xs text-slate-500">
              Every rule must pass for the device to be found. Paths read the parsed body as <code>data</code> (e.g. <code>data[0].serial_number</code>), or{" "}
              <code>status</code> and <code>headers</code>.
            </p>
            {rules.rows.length === 0 && <p className="text-sm text-slate-500">No rules: any successful, non-empty answer counts as found.</p>}
            {rules.rows.map((row, i) => {
              const f = (k: keyof Rule) => rules.field(i, k, row);
              return (
                <fieldset key={row.key} aria-label={`Rule ${i + 1}`} className="min-w-0 grid grid-cols-1 items-start gap-3 md:grid-cols-[1fr_12rem_1fr_auto]">
                  <RowField label="Response Path" htmlFor={f("path").id} error={rules.error(i, "path")} errorId={`validationRules.${i}.path-error`}>
                    <input className="input font-mono" {...f("path")} />
                  </RowField>
                  <RowField label="Condition" htmlFor={f("condition").id} error={rules.error(i, "condition")} errorId={`validationRules.${i}.condition-error`}>
                    <select className="input" {...f("condition")}>
                      {conditions.map((c) => (
                        <option key={c.value} value={c.value}>
                          {c.label}
                        </option>
                      ))}
                    </select>
                  </RowField>
                  <RowField
                    label="Expected result"
                    htmlFor={f("expected").id}
                    error={rules.error(i, "expected")}
                    errorId={`validationRules.${i}.expected-error`}
                  >
                    <input className="input font-mono" {...f("expected")} />
                  </RowField>
                  {!readOnly && (
                    <button type="button" className="btn-secondary mt-6" aria-label={`Remove rule ${i + 1}`} onClick={() => rules.remove(row.key)}>
                      Remove
                    </button>
                  )}
                </fieldset>
              );
            })}
          </fieldset>
        </div>

        <div {...panel("attribute-mapping")} className="space-y-3">
          <fieldset aria-label="Attribute Mapping" className="min-w-0 space-y-3 rounded-lg border border-slate-200 p-4">
            <div className="flex items-center justify-between">
              <h3 className="text-sm font-semibold text-slate-800">Attribute Mapping</h3>
              {!readOnly && (
                <button type="button" className="btn-secondary" onClick={mappings.add}>
                  Add
                </button>
              )}
            </div>
            <p className="text-xs text-slate-500">
              Each attribute becomes <code>{"${/device/<attribute>}"}</code> in certificate templates and can be tested by Policy Workflows.
            </p>
            {mappings.rows.length === 0 && <p className="text-sm text-slate-500">No attributes mapped.</p>}
            {mappings.rows.map((row, i) => {
              const f = (k: keyof Mapping) => mappings.field(i, k, row);
              return (
                <fieldset key={row.key} aria-label={`Mapping ${i + 1}`} className="min-w-0 grid grid-cols-1 items-start gap-3 md:grid-cols-[1fr_1fr_auto]">
                  <RowField label="Response Path" htmlFor={f("path").id} error={mappings.error(i, "path")} errorId={`attributeMappings.${i}.path-error`}>
                    <input className="input font-mono" {...f("path")} />
                  </RowField>
                  <RowField
                    label="Attribute"
                    htmlFor={f("attribute").id}
                    error={mappings.error(i, "attribute")}
                    errorId={`attributeMappings.${i}.attribute-error`}
                  >
                    <input className="input font-mono" {...f("attribute")} />
                  </RowField>
                  {!readOnly && (
                    <button type="button" className="btn-secondary mt-6" aria-label={`Remove mapping ${i + 1}`} onClick={() => mappings.remove(row.key)}>
                      Remove
                    </button>
                  )}
                </fieldset>
              );
            })}
          </fieldset>
        </div>

        <div {...panel("groups")} className="grid grid-cols-1 gap-4">
          <Field
            label="Groups"
            name="groupsPath"
            error={err.groupsPath}
            hint={
              <>
                Response paths whose values are the device&apos;s groups, comma separated, e.g. <code>data[0].blueprint_name, data[0].tags</code>.
              </>
            }
          >
            <input className="input font-mono" {...invalid(state, "groupsPath", cp.groupsPath ?? "")} />
          </Field>
        </div>

        {!readOnly && ["api", "attribute-mapping", "groups"].includes(active) && (
          <section aria-label="Validate" className="space-y-3 rounded-lg border border-dashed border-slate-300 p-4">
            <div className="flex flex-wrap items-end gap-3">
              <div className="min-w-64 flex-1">
                <Field
                  label="Identity to validate with"
                  name="identity"
                  error={verr.identity}
                  hint="e.g. a device serial number. Empty: the Expected result of a rule is used."
                >
                  <input className="input font-mono" id="identity" name="identity" aria-invalid={verr.identity ? true : undefined} />
                </Field>
              </div>
              <button type="button" className="btn-secondary" disabled={validating} onClick={runValidate}>
                {validating ? "Validating…" : "Validate"}
              </button>
            </div>
            {/* What stopped Validate, e.g. a token to type again for a new origin (its field may be on another tab). */}
            {check.error && <FormMessage state={{ error: Object.entries(verr).find(([k]) => k !== "identity")?.[1] ?? check.error }} />}
            {check.report && <LookupReport report={check.report as unknown as LookupReportData} conditionLabels={conditionLabels} />}
          </section>
        )}
      </fieldset>
      {!readOnly && <UpdateButton pending={pending} />}
    </form>
  );
}
