"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createTemplate, deleteTemplate, previewTemplateInput, updateTemplate } from "@attested/ca";
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
  };
}

/** Renders the unsaved form against a sample device. Reading only, so auditors may preview too. */
export async function previewTemplateAction(_: PreviewState, form: FormData): Promise<PreviewState> {
  if (!(await currentActor())) return { error: "Sign in to continue." };
  const input: Record<string, string> = {};
  for (const [k, v] of form.entries()) if (typeof v === "string" && !k.startsWith("$ACTION")) input[k] = k in input ? `${input[k]}\n${v}` : v;
  const p = previewTemplateInput(templateInput(input, form));
  return {
    values: input,
    preview: {
      subjectDn: p.subjectDn,
      sans: p.sans,
      extendedKeyUsages: p.extendedKeyUsages.map((e) => e.label),
      notAfter: p.notAfter.toISOString(),
      errors: p.errors,
      omitted: p.omitted.map((o) => o.reason),
    },
  };
}
