"use server";
import { redirect } from "next/navigation";
import { revalidatePath } from "next/cache";
import { createPlatform, describeNetwork, publishToKandji, rotateEnrollmentSecret, updateNetworkPayloads, updatePlatform } from "@attested/platforms";
import { publishContext } from "@/lib/config";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

const base = "/integration-hub/device-management-platforms";

export const createPlatformAction = formAction(async (input) => {
  const actor = await requireWriter("create device management platforms");
  const p = await createPlatform(await getDb(), actor, input);
  revalidatePath(base);
  // The detail page starts the .mobileconfig download ("Click Save. A .mobileconfig file is downloaded.").
  redirect(`${base}/${p.id}?download=1`);
});

export const updatePlatformAction = formAction(async (input) => {
  const actor = await requireWriter("change device management platforms");
  await updatePlatform(await getDb(), actor, input.id ?? "", input);
  revalidatePath(`${base}/${input.id}`);
  return { ok: true, message: "Platform updated." };
});

export const rotateSecretAction = formAction(async (input) => {
  const actor = await requireWriter("rotate enrollment secrets");
  const revokePrevious = input.revokePrevious === "on";
  const { published } = await rotateEnrollmentSecret(await getDb(), actor, input.id ?? "", await publishContext(), { revokePrevious });
  revalidatePath(`${base}/${input.id}`);
  const revoked = revokePrevious ? " The previous secret no longer enrolls." : "";
  if (!published) return { ok: true, message: `Enrollment secret rotated.${revoked} Download the new profile and push it through your MDM.` };
  if (!published.ok)
    return {
      error: `Enrollment secret rotated, but publishing to Kandji failed: ${published.reason}.${revoked || " The previous secret keeps working until the new profile is published."}`,
    };
  return { ok: true, message: `Enrollment secret rotated and the new profile published to Kandji.${revoked}` };
});

export const publishToKandjiAction = formAction(async (input) => {
  const actor = await requireWriter("publish profiles to Kandji");
  const r = await publishToKandji(await getDb(), actor, input.id ?? "", input, await publishContext());
  revalidatePath(`${base}/${input.id}`);
  if (!r.ok) return { error: `Not published: ${r.reason}` };
  return { ok: true, message: r.action === "created" ? "Profile published to Kandji." : "Profile updated in Kandji." };
});

export const updateNetworkPayloadsAction = formAction(async (input) => {
  const actor = await requireWriter("change device management platforms");
  const n = await updateNetworkPayloads(await getDb(), actor, input.id ?? "", input);
  revalidatePath(`${base}/${input.id}`);
  return { ok: true, message: `Network payloads saved (${describeNetwork(n)}). Download the profile again and replace it in the MDM.` };
});
