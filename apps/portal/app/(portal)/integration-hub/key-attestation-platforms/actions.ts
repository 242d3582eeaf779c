"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createKeyAttestationPlatform, setTestTrustedRoots } from "@attested/platforms";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

const base = "/integration-hub/key-attestation-platforms";

export const createKapAction = formAction(async (input) => {
  const actor = await requireWriter("create key attestation platforms");
  const k = await createKeyAttestationPlatform(await getDb(), actor, input);
  revalidatePath(base);
  redirect(`${base}/${k.id}?saved=1`);
});

export const setTestRootsAction = formAction(async (input) => {
  const actor = await requireWriter("change attestation trust");
  await setTestTrustedRoots(await getDb(), actor, input.id ?? "", input);
  revalidatePath(`${base}/${input.id}`);
  return { ok: true, message: "Test trust updated and recorded." };
});
