"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createCa, updateCaSettings } from "@attested/ca";
import { caContext } from "@/lib/ca";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

export const createCaAction = formAction(async (input) => {
  const actor = await requireWriter("create certificate authorities");
  const ca = await createCa(await caContext(), actor, input);
  revalidatePath("/dynamic-pki/certificate-authorities");
  redirect(`/dynamic-pki/certificate-authorities/${ca.id}?created=1`);
});

export const updateCaSettingsAction = formAction(async (input) => {
  const actor = await requireWriter("change certificate authorities");
  await updateCaSettings(await caContext(), actor, input.id ?? "", input);
  revalidatePath(`/dynamic-pki/certificate-authorities/${input.id}`);
  return { ok: true, message: "Settings updated." };
});
