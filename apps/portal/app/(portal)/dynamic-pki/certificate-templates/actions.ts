"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createTemplate, deleteTemplate, getTemplate, previewTemplateInput, templateSources, updateTemplate } from "@attested/ca";
import { DomainError } from "@attested/errors";
import { deviceContext, unsourcedDeviceVariables, type TemplateContext, type UnsourcedVariable } from "@attested/pki";
import { lookupDeviceForPreview } from "@attested/policy";
import { caContext } from "@/lib/ca";
import { formAction } from "@/lib/form";
import type { FormState } from "@/lib/form-state";
import { currentActor, requireWriter } from "@/lib/session";

const templateInput = (input: Record<string, string>, form: FormData) => ({
  ...input,
  overrideValidity: input.overrideValidity === "on",
  allowCsrSans: input.allowCsrSans === "on",
  extendedKeyUsages: form.getAll("extendedKeyUsages").map(String),
});

export const createTemplateAction = formAction(async (input, form) => {
  const actor = await requireWriter("create certificate templates");
  const t = await createTemplate(await caContext(), actor, templateInput(input, form));
  revalidatePath("/dynamic-pki/certificate-authorities");
  redirect(`/dynamic-pki/certificate-templates/${t.id}?saved=1`);
});

export const updateTemplateAction = formAction(async (input, form) => {
  const actor = await requireWriter("change certificate templates");
  await updateTemplate(await caContext(), actor, input.id ?? "", templateInput(input, form));
  revalidatePath(`/dynamic-pki/certificate-templates/${input.id}`);
  return { ok: true, message: "Template updated." };
});

export const deleteTemplateAction = formAction(async (input) => {
  const actor = await requireWriter("delete certificate templates");
  await deleteTemplate(await caContext(), actor, input.id ?? "");
  revalidatePath("/dynamic-pki/certificate-authorities");
  redirect("/dynamic-pki/certificate-authorities");
});

export interface PreviewState extends FormState {
  preview?: {
    subjectDn: string;
    sans: { type: string; value: string }[];
    extendedKeyUsages: string[];
    notAfter: string;
    errors: { field: string; message: string }[];
    omitted: string[];
    /** `/device` variables that a way of reaching this template never fills (saved templates only). */
    unsourced: UnsourcedVariable[];
    /** Set when rendered for a real device: what the Core Platform answered. */
    device?: { serial: string; corePlatform: string; attributes: string[] };
  };
  /** Why the real device could not be looked up, on its field. */
  deviceError?: { field: string; message: string };
}

/**
 * Renders the unsaved form against the sample device, or ("Preview for a real device", admins only: it
 * calls the Core Platform with its stored credential) against what a Core Platform answers for a serial.
 */
export async function previewTemplateAction(_: PreviewState, form: FormData): Promise<PreviewState> {
  const actor = await currentActor();
  if (!actor) return { error: "Sign in to continue." };
  const input: Record<string, string> = {};
  for (const [k, v] of form.entries()) if (typeof v === "string" && !k.startsWith("$ACTION")) input[k] = k in input ? `${input[k]}\n${v}` : v;
  const ctx = await caContext();
  const saved = input.id ? await getTemplate(ctx, input.id).catch((e) => (e instanceof DomainError ? null : Promise.reject(e))) : null;
  if (input.id && !saved) return { error: "This Certificate Template no longer exists." };
  // A read-only form (an auditor's) posts no fields, as disabled fields are not sent: preview the saved template.
  const asSaved = saved !== null && !("subject" in input);
  const template = asSaved
    ? { ...saved, validityDays: saved.validityDays ?? undefined, overrideNotAfter: saved.overrideNotAfter ?? undefined }
    : { ...templateInput(input, form), subject: input.subject ?? "" };
  // The sources are the saved template's (its policies and platforms); the variables are the form's.
  const unsourced = saved ? unsourcedDeviceVariables(template, await templateSources(ctx, saved.id)) : [];
  const values = asSaved ? undefined : input;
  let context: TemplateContext | undefined;
  let device: NonNullable<PreviewState["preview"]>["device"];
  if (input.previewFor === "device") {
    try {
      const r = await lookupDeviceForPreview(ctx.db, actor, input.corePlatformId ?? "", input.serial ?? "");
      if (r.outcome !== "found") throw new DomainError(`${r.identity} in "${r.corePlatform.name}": ${r.reason}`, 422, "serial");
      context = deviceContext(r.identity, r.attributes);
      device = { serial: r.identity, corePlatform: r.corePlatform.name, attributes: Object.keys(r.attributes) };
    } catch (e) {
      if (!(e instanceof DomainError)) throw e;
      return { values, deviceError: { field: e.field ?? "serial", message: e.message } };
    }
  }
  const p = previewTemplateInput(template, context);
  return {
    values,
    preview: {
      unsourced,
      device,
      subjectDn: p.subjectDn,
      sans: p.sans,
      extendedKeyUsages: p.extendedKeyUsages.map((e) => e.label),
      notAfter: p.notAfter.toISOString(),
      errors: p.errors,
      omitted: p.omitted.map((o) => o.reason),
    },
  };
}
