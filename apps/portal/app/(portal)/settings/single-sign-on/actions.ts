"use server";
import { revalidatePath } from "next/cache";
import { updateSsoSettings } from "@attested/identity";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

export const updateSsoSettingsAction = formAction(async (input) => {
  const actor = await requireWriter("change single sign-on");
  const s = await updateSsoSettings(await getDb(), actor, input);
  revalidatePath("/settings/single-sign-on");
  return {
    ok: true,
    message: s.enabled ? "Single sign-on saved: the sign-in page offers it." : "Saved. Single sign-on is off until issuer, client ID and secret are set.",
  };
});
