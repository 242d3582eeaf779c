"use server";
import { revalidatePath } from "next/cache";
import { updateEventRetention } from "@attested/lifecycle";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

export const updateRetentionAction = formAction(async (input) => {
  const actor = await requireWriter("change event retention");
  const days = await updateEventRetention(await getDb(), actor, input);
  revalidatePath("/settings/events");
  return { ok: true, message: days ? `Events older than ${days} days will be deleted daily.` : "Events are kept forever." };
});
