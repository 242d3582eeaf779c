"use client";
import { useActionState, useEffect } from "react";
import { usePathname, useRouter } from "next/navigation";
import { ConfirmSubmit, Field, FormMessage, SubmitButton, invalid, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { DMP_TYPES, VENDORS } from "@attested/platforms/options";
import { createPlatformAction, publishToKandjiAction, rotateSecretAction, updatePlatformAction } from "./actions";

export function AddPlatformForm() {
  const [state, action] = useActionState(createPlatformAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-6" aria-label="Add Device Management Platform">
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
            {DMP_TYPES.map((t) => (
              <option key={t.value} value={t.value}>
                {t.label}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Vendor" name="vendor" error={err.vendor}>
          <select className="input" {...invalid(state, "vendor", "")}>
            <option value="" disabled>
              Select…
            </option>
            {Object.entries(VENDORS).map(([k, v]) => (
              <option key={k} value={k}>
                {v.label}
              </option>
            ))}
          </select>
        </Field>
      </fieldset>
      <SubmitButton>Save</SubmitButton>
    </form>
  );
}

/** Starts the profile download once, right after "Save". */
export function AutoDownload({ href }: { href: string }) {
  useEffect(() => {
    window.location.assign(href);
    window.history.replaceState(null, "", window.location.pathname);
  }, [href]);
  return null;
}

export function PlatformSettingsForm({
  p,
  cas,
  templates,
  readOnly,
}: {
  p: { id: string; name: string; description: string; allowServerNames: boolean; defaultCaId: string | null; defaultTemplateId: string | null };
  cas: { id: string; name: string }[];
  templates: { id: string; name: string }[];
  readOnly: boolean;
}) {
  const [state, action] = useActionState(updatePlatformAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-4" aria-label="Platform settings">
      <input type="hidden" name="id" value={p.id} />
      <FormMessage state={state} />
      <fieldset disabled={readOnly} className="grid grid-cols-1 gap-4 md:grid-cols-2">
        <Field label="Name" name="name" error={err.name}>
          <input className="input" {...invalid(state, "name", p.name)} />
        </Field>
        <Field label="Description" name="description" error={err.description}>
          <input className="input" {...invalid(state, "description", p.description)} />
        </Field>
        <Field label="Default Certificate Authority" name="defaultCaId" error={err.defaultCaId} hint="Used when no Enrollment Policy applies to this platform.">
          <select className="input" {...invalid(state, "defaultCaId", p.defaultCaId ?? "")}>
            <option value="">None: Enrollment Policies decide</option>
            {cas.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Default Certificate Template" name="defaultTemplateId" error={err.defaultTemplateId}>
          <select className="input" {...invalid(state, "defaultTemplateId", p.defaultTemplateId ?? "")}>
            <option value="">None: Enrollment Policies decide</option>
            {templates.map((t) => (
              <option key={t.id} value={t.id}>
                {t.name}
              </option>
            ))}
          </select>
        </Field>
        <label className="flex items-center gap-2 md:col-span-2">
          <input type="checkbox" name="allowServerNames" defaultChecked={p.allowServerNames} className="h-4 w-4" />
          Also issue to standard ACME clients for DNS names (http-01 and dns-01 challenges)
        </label>
      </fieldset>
      {!readOnly && <SubmitButton>Update</SubmitButton>}
    </form>
  );
}

export function RotateSecretForm({ id, published }: { id: string; published: boolean }) {
  const [state, action] = useActionState(rotateSecretAction, emptyForm);
  return (
    <form noValidate key={formKey(state)} action={action} className="space-y-2">
      <input type="hidden" name="id" value={id} />
      <FormMessage state={state} />
      <ConfirmSubmit
        message={
          published
            ? "Rotate the enrollment secret? The new profile is published to Kandji; the previous one stops enrolling after the grace period."
            : "Rotate the enrollment secret? Every profile downloaded before stops working for new enrollments."
        }
      >
        Rotate enrollment secret
      </ConfirmSubmit>
    </form>
  );
}

/**
 * Publish to Kandji: the Core Platform holding Kandji's API token, and the Blueprints (listed from
 * that tenant) the custom profile is assigned to. Choosing another Core Platform lists its Blueprints.
 */
export function PublishToKandjiForm({
  id,
  corePlatforms,
  corePlatformId,
  blueprints,
  blueprintIds,
}: {
  id: string;
  corePlatforms: { id: string; name: string }[];
  corePlatformId: string;
  blueprints: { id: string; name: string }[] | { error: string } | null;
  blueprintIds: string[];
}) {
  const [state, action] = useActionState(publishToKandjiAction, emptyForm);
  const router = useRouter();
  const pathname = usePathname();
  const err = state.fieldErrors ?? {};
  const chosen = state.values?.blueprintIds?.split("\n") ?? blueprintIds;
  return (
    // The chosen Core Platform lives in the URL (?core=, its Blueprints are listed from it): a reset form keeps it.
    <form noValidate key={`${formKey(state)}:${corePlatformId}`} action={action} className="space-y-4" aria-label="Publish to Kandji">
      <input type="hidden" name="id" value={id} />
      <FormMessage state={state} />
      <Field
        label="Core Platform"
        name="corePlatformId"
        error={err.corePlatformId}
        hint="A Generic HTTP Core Platform with Kandji's API URL and a Bearer Token."
      >
        <select
          className="input"
          {...invalid(state, "corePlatformId")}
          defaultValue={corePlatformId}
          onChange={(e) => router.replace(`${pathname}?core=${encodeURIComponent(e.target.value)}`, { scroll: false })}
        >
          <option value="">Select…</option>
          {corePlatforms.map((c) => (
            <option key={c.id} value={c.id}>
              {c.name}
            </option>
          ))}
        </select>
      </Field>
      <fieldset className="space-y-1" aria-describedby={err.blueprintIds ? "blueprintIds-error" : undefined}>
        <legend className="text-sm font-medium text-slate-700">Blueprints</legend>
        {blueprints === null && <p className="text-sm text-slate-500">Choose a Core Platform to list its Blueprints.</p>}
        {blueprints && "error" in blueprints && (
          <p role="alert" className="text-sm text-red-600">
            Kandji&apos;s Blueprints could not be listed: {blueprints.error}
          </p>
        )}
        {blueprints &&
          !("error" in blueprints) &&
          blueprints.map((b) => (
            <label key={b.id} className="flex items-center gap-2 text-sm">
              <input type="checkbox" name="blueprintIds" value={b.id} defaultChecked={chosen.includes(b.id)} className="h-4 w-4" />
              {b.name}
            </label>
          ))}
        {err.blueprintIds && (
          <p id="blueprintIds-error" role="alert" className="text-xs font-medium text-red-600">
            {err.blueprintIds}
          </p>
        )}
      </fieldset>
      <SubmitButton>Publish to Kandji</SubmitButton>
    </form>
  );
}
