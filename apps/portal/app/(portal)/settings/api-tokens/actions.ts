"use server";
import { revalidatePath } from "next/cache";
import { createApiToken, revokeApiToken } from "@attested/identity";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

export const createTokenAction = formAction(async (input) => {
  const actor = await requireWriter("create API tokens");
  const { token, info } = await createApiToken(await getDb(), actor, input);
  revalidatePath("/settings/api-tokens");
  return { ok: true, reset: true, message: `Token "${info.name}" created. Copy it now: it is not shown again.`, reveal: { token } };
});

export const revokeTokenAction = formAction(async (input) => {
  const actor = await requireWriter("revoke API tokens");
  await revokeApiToken(await getDb(), actor, input.id ?? "");
  revalidatePath("/settings/api-tokens");
  return { ok: true, message: "Token revoked." };
});
