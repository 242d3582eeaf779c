"use server";
import { revalidatePath } from "next/cache";
import { releaseHold, revokeCertificate } from "@attested/ca";
import { caContext } from "@/lib/ca";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

export const revokeCertificateAction = formAction(async (input) => {
  const actor = await requireWriter("revoke certificates");
  const c = await revokeCertificate(await caContext(), actor, input.id ?? "", { reason: input.reason });
  revalidatePath(`/dynamic-pki/certificates/${input.id}`);
  return { ok: true, message: c.status === "ON_HOLD" ? "Certificate put on hold." : "Certificate revoked." };
});

export const releaseHoldAction = formAction(async (input) => {
  const actor = await requireWriter("release certificate holds");
  await releaseHold(await caContext(), actor, input.id ?? "");
  revalidatePath(`/dynamic-pki/certificates/${input.id}`);
  return { ok: true, message: "Hold released: the certificate is good again." };
});
