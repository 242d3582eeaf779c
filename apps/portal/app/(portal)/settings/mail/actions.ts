"use server";
import { revalidatePath } from "next/cache";
import { sendTestMail, updateMailSettings } from "@attested/lifecycle";
import { caContext } from "@/lib/ca";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

export const updateMailSettingsAction = formAction(async (input) => {
  const actor = await requireWriter("change mail settings");
  const s = await updateMailSettings(await caContext(), actor, input);
  revalidatePath("/settings/mail");
  return { ok: true, message: s.configured ? "Mail settings saved." : "Mail settings cleared: no mail will be sent." };
});

export const sendTestMailAction = formAction(async (input) => {
  const actor = await requireWriter("send test mail");
  const r = await sendTestMail(await caContext(), actor, input);
  revalidatePath("/settings/mail");
  return r.ok
    ? { ok: true, message: `Test mail sent to ${input.to}.`, values: { to: input.to ?? "" } }
    : { error: `The test mail was not sent: ${r.error}`, values: { to: input.to ?? "" } };
});
