"use client";
import { useActionState } from "react";
import { ConfirmSubmit, Field, FormMessage, SubmitButton, invalid, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { EXTENDED_KEY_USAGES, SIGNATURE_ALGORITHMS } from "@attested/ca/options";
import { createTemplateAction, deleteTemplateAction, previewTemplateAction, updateTemplateAction, type PreviewState } from "./actions";

export interface TemplateValues {
  id?: string;
  name: string;
  subject: string;
  description: string;
  validityDays: string;
  overrideValidity: boolean;
  overrideNotAfter: string;
  signatureAlgorithm: string;
  sanOtherName: string;
  sanRfc822: string;
  sanDns: string;
  sanUri: string;
  allowCsrSans: boolean;
  extendedKeyUsages: string[];
}

export const NEW_TEMPLATE: TemplateValues = {
  name: "",
  subject: "",
  description: "",
  validityDays: "365",
  overrideValidity: false,
  overrideNotAfter: "",
  signatureAlgorithm: "SHA-256",
  sanOtherName: "",
  sanRfc822: "",
  sanDns: "",
  sanUri: "",
  allowCsrSans: true,
  extendedKeyUsages: [],
};

/** The Core Platforms an admin may preview a real device through; the first is the one the template's policies use. */
export type PreviewPlatforms = { id: string; name: string }[];

export function TemplateForm({
  initial,
  readOnly = false,
  corePlatforms = [],
}: {
  initial: TemplateValues;
  readOnly?: boolean;
  corePlatforms?: PreviewPlatforms;
}) {
  const [state, save] = useActionState(initial.id ? updateTemplateAction : createTemplateAction, emptyForm);
  const [preview, runPreview] = useActionState<PreviewState, FormData>(previewTemplateAction, {});
  const err = { ...(state.fieldErrors ?? {}) };
  const pv = preview.preview;
  if (pv) for (const e of pv.errors) err[e.field] ??= e.message;
  const values = state.values ?? preview.values;
  const v = (k: keyof TemplateValues) => values?.[k] ?? String(initial[k] ?? "");
  const on = (k: "overrideValidity" | "allowCsrSans") => (values ? values[k] === "on" : initial[k]);
  const text = (name: keyof TemplateValues, label: string, hint?: string) => (
    <Field label={label} name={name} error={err[name]} hint={hint}>
      <input className="input font-mono" {...invalid(state, name)} defaultValue={v(name)} aria-invalid={err[name] ? true : undefined} />
    </Field>
  );
  return (
    <form noValidate key={formKey(state, preview)} action={save} className="space-y-6" aria-label="Certificate Template">
      {initial.id && <input type="hidden" name="id" value={initial.id} />}
      <FormMessage state={state} />
      {preview.error && <FormMessage state={{ error: preview.error }} />}
      <fieldset disabled={readOnly} className="space-y-6">
        <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
          <legend className="px-1 text-sm font-semibold text-slate-800">Basic</legend>
          {text("name", "Name")}
          {text("subject", "Subject", "e.g. CN=${/csr/subject/commonname}. Variables: /csr, /device, /attestation, /account, /platform.")}
          <div className="md:col-span-2">{text("description", "Display Description")}</div>
          <Field label="Validity Period" name="validityDays" error={err.validityDays} hint="In days.">
            <input className="input" type="number" min={1} {...invalid(state, "validityDays")} defaultValue={v("validityDays")} />
          </Field>
          <Field label="Signature Algorithm" name="signatureAlgorithm" error={err.signatureAlgorithm}>
            <select className="input" {...invalid(state, "signatureAlgorithm")} defaultValue={v("signatureAlgorithm")}>
              {SIGNATURE_ALGORITHMS.map((s) => (
                <option key={s}>{s}</option>
              ))}
            </select>
          </Field>
          <label className="flex items-center gap-2">
            <input type="checkbox" name="overrideValidity" defaultChecked={on("overrideValidity")} className="h-4 w-4" /> Override Validity Period
          </label>
          <Field
            label="End date"
            name="overrideNotAfter"
            error={err.overrideNotAfter}
            hint="A fixed expiry date for every certificate, used when Override Validity Period is checked."
          >
            <input className="input" type="date" {...invalid(state, "overrideNotAfter")} defaultValue={v("overrideNotAfter")} />
          </Field>
        </fieldset>
        <fieldset className="grid grid-cols-1 gap-4 rounded-lg border border-slate-200 p-4 md:grid-cols-2">
          <legend className="px-1 text-sm font-semibold text-slate-800">SAN</legend>
          {text("sanOtherName", "Other Name", "${/csr/san/othername}")}
          {text("sanRfc822", "RFC822", "${/csr/san/rfc822name}")}
          {text("sanDns", "DNS", "${/csr/san/dnsname}")}
          {text("sanUri", "URI", "${/device/userDescription}")}
          <div className="md:col-span-2">
            <label className="flex items-center gap-2">
              <input type="checkbox" name="allowCsrSans" defaultChecked={on("allowCsrSans")} className="h-4 w-4" /> Allow SANs from the CSR
            </label>
            <p className="mt-1 text-xs text-slate-500">
              For Apple-attested devices, ${"{/csr/san/...}"} gives the SANs the device&apos;s profile put in its request; unchecked, those SANs are left out. A
              standard ACME client only ever gets the names it proved.
            </p>
          </div>
        </fieldset>
        <fieldset className="rounded-lg border border-slate-200 p-4">
          <legend className="px-1 text-sm font-semibold text-slate-800">Extended Key Usage</legend>
          <p className="mb-2 text-sm font-medium text-slate-700" id="eku-label">
            Use Certificate For
          </p>
          <fieldset aria-labelledby="eku-label" className="flex min-w-0 flex-wrap gap-6">
            {EXTENDED_KEY_USAGES.map((e) => (
              <label key={e.value} className="flex items-center gap-2">
                <input
                  type="checkbox"
                  name="extendedKeyUsages"
                  value={e.value}
                  defaultChecked={values ? (values.extendedKeyUsages ?? "").split("\n").includes(e.value) : initial.extendedKeyUsages.includes(e.value)}
                  className="h-4 w-4"
                />
                {e.label}
              </label>
            ))}
          </fieldset>
          {err.extendedKeyUsages && (
            <p role="alert" className="mt-1 text-xs font-medium text-red-600">
              {err.extendedKeyUsages}
            </p>
          )}
        </fieldset>
      </fieldset>
      {pv && pv.unsourced.length > 0 && (
        <section aria-label="Variables with no source" className="rounded-lg border border-amber-300 bg-amber-50 p-4 text-sm text-amber-950">
          <h3 className="mb-2 font-semibold">Variables with no source</h3>
          <p className="mb-2">
            Real certificates never get these values (their SAN is left out): <code>/device</code> holds only what the Core Platform&apos;s Attribute Mapping
            names. Map the attribute in Integration Hub &gt; Core Platforms, or change the template.
          </p>
          <ul className="list-disc space-y-1 pl-5" data-testid="preview-unsourced">
            {pv.unsourced.map((u) => (
              <li key={u.variable}>
                <code className="font-mono">{u.variable}</code>:{" "}
                {u.sources.map((s) => (
                  <span key={s.via} className="block">
                    {s.via}: {s.reason}
                  </span>
                ))}
              </li>
            ))}
          </ul>
        </section>
      )}
      {pv && (
        <section aria-label="Preview" className="rounded-lg border border-indigo-200 bg-indigo-50 p-4 text-sm">
          <h3 className="mb-2 font-semibold text-indigo-900">
            {pv.device ? `Preview for device ${pv.device.serial}, as "${pv.device.corePlatform}" answered` : "Preview against a sample device"}
          </h3>
          {pv.device && (
            <p className="mb-2 text-xs text-slate-600" data-testid="preview-device">
              /device: {pv.device.attributes.length ? pv.device.attributes.join(", ") : "no attributes (the Core Platform maps none)"}. Request values (/csr,
              /attestation) are the sample&apos;s, with this serial number.
            </p>
          )}
          {pv.errors.length > 0 ? (
            <ul className="list-disc pl-5 text-red-700" data-testid="preview-errors">
              {pv.errors.map((e, i) => (
                <li key={i}>
                  <strong>{e.field}</strong>: {e.message}
                </li>
              ))}
            </ul>
          ) : (
            <dl className="grid grid-cols-[10rem_1fr] gap-1" data-testid="preview-result">
              <dt className="text-slate-600">Subject</dt>
              <dd className="font-mono">{pv.subjectDn}</dd>
              <dt className="text-slate-600">SANs</dt>
              <dd className="font-mono">{pv.sans.map((s) => `${s.type}: ${s.value}`).join(", ") || "—"}</dd>
              {pv.omitted.length > 0 && (
                <>
                  <dt className="text-slate-600">Left out</dt>
                  <dd>
                    {pv.omitted.map((o) => (
                      <span key={o} className="block">
                        {o}
                      </span>
                    ))}
                  </dd>
                </>
              )}
              <dt className="text-slate-600">Use Certificate For</dt>
              <dd>{pv.extendedKeyUsages.join(", ")}</dd>
              <dt className="text-slate-600">Valid until</dt>
              <dd>{pv.notAfter.slice(0, 10)}</dd>
            </dl>
          )}
        </section>
      )}
      <div className="flex gap-3">
        <button type="submit" formAction={runPreview} className="btn-secondary">
          Preview
        </button>
        {!readOnly && <SubmitButton>{initial.id ? "Update" : "Save"}</SubmitButton>}
      </div>
      {corePlatforms.length > 0 && (
        <fieldset className="rounded-lg border border-slate-200 p-4" aria-label="Preview for a real device">
          <legend className="px-1 text-sm font-semibold text-slate-800">Preview for a real device</legend>
          <p className="mb-3 text-xs text-slate-500">
            Looks the serial number up through the Core Platform (a real call with its saved credential, recorded in General Events) and renders the template
            with its answer as <code>/device</code>.
          </p>
          <div className="grid grid-cols-1 items-end gap-4 md:grid-cols-[1fr_1fr_auto]">
            <Field
              label="Core Platform"
              name="corePlatformId"
              error={preview.deviceError?.field === "corePlatformId" ? preview.deviceError.message : undefined}
            >
              <select className="input" id="corePlatformId" name="corePlatformId" defaultValue={preview.values?.corePlatformId ?? corePlatforms[0]?.id}>
                {corePlatforms.map((c) => (
                  <option key={c.id} value={c.id}>
                    {c.name}
                  </option>
                ))}
              </select>
            </Field>
            <Field label="Device serial number" name="serial" error={preview.deviceError?.field === "serial" ? preview.deviceError.message : undefined}>
              <input
                className="input font-mono"
                id="serial"
                name="serial"
                defaultValue={preview.values?.serial ?? ""}
                aria-invalid={preview.deviceError?.field === "serial" ? true : undefined}
              />
            </Field>
            <button
              type="submit"
              formAction={(form) => {
                form.set("previewFor", "device");
                runPreview(form);
              }}
              className="btn-secondary"
            >
              Preview for this device
            </button>
          </div>
        </fieldset>
      )}
    </form>
  );
}

export function DeleteTemplateForm({ id, name }: { id: string; name: string }) {
  const [state, action] = useActionState(deleteTemplateAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-2">
      <input type="hidden" name="id" value={id} />
      <FormMessage state={state} />
      <ConfirmSubmit message={`Delete the template "${name}"?`}>Delete template</ConfirmSubmit>
    </form>
  );
}
