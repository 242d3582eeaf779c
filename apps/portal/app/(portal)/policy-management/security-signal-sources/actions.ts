"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createSignalSource, deleteSignalSource, updateSignalSource, validateSignalSource, type ValidationReport } from "@attested/policy";
import { getDb } from "@/lib/db";
import { formAction, formToObject, toFormState } from "@/lib/form";
import type { FormState } from "@/lib/form-state";
import { requireWriter } from "@/lib/session";

const base = "/policy-management/security-signal-sources";

const tabsInput = (input: Record<string, string>, form: FormData) => ({
  name: input.name,
  description: input.description,
  corePlatformId: input.corePlatformId,
  identityType: input.identityType,
  identityAttribute: input.identityAttribute,
  revokeOnFailure: input.revokeOnFailure === "on",
  deviceRoleIds: form.getAll("deviceRoleIds").map(String),
});

export const createSignalSourceAction = formAction(async (input) => {
  const actor = await requireWriter("create security signal sources");
  const s = await createSignalSource(await getDb(), actor, input);
  revalidatePath(base);
  redirect(`${base}/${s.id}?saved=1`);
});

export const updateSignalSourceAction = formAction(async (input, form) => {
  const actor = await requireWriter("change security signal sources");
  await updateSignalSource(await getDb(), actor, input.id ?? "", tabsInput(input, form));
  revalidatePath(`${base}/${input.id}`);
  return { ok: true, message: "Security Signal Source updated." };
});

export const deleteSignalSourceAction = formAction(async (input) => {
  const actor = await requireWriter("delete security signal sources");
  await deleteSignalSource(await getDb(), actor, input.id ?? "");
  revalidatePath(base);
  redirect(base);
});

export interface ValidateState extends FormState {
  report?: ValidationReport;
}

/** "Validate Configuration": the typed identity, through the unsaved Settings. */
export async function validateSignalSourceAction(_: ValidateState, form: FormData): Promise<ValidateState> {
  const input = formToObject(form);
  try {
    const actor = await requireWriter("validate security signal sources");
    const { corePlatformId, identityType, identityAttribute } = tabsInput(input, form);
    const report = await validateSignalSource(await getDb(), actor, input.id ?? "", {
      identity: input.identity ?? "",
      corePlatformId,
      identityType,
      identityAttribute,
    });
    return { report: JSON.parse(JSON.stringify(report)) as ValidationReport };
  } catch (e) {
    return toFormState(e);
  }
}
