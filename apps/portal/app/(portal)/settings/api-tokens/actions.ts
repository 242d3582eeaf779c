"use server";
import { revalidatePath } from "next/cache";
import { createApiToken, revokeApiToken } from "@attested/identity";
import { getDb } from "@/lib/db";
import { formToObject, toFormState, type FormState } from "@/lib/form";
import { requireWriter } from "@/lib/session";

export async function createTokenAction(_: FormState, form: FormData): Promise<FormState> {
  try {
    const actor = await requireWriter("create API tokens");
    const { token, info } = await createApiToken(await getDb(), actor, formToObject(form));
    revalidatePath("/settings/api-tokens");
    return { ok: true, message: `Token "${info.name}" created. Copy it now: it is not shown again.`, reveal: { token } };
  } catch (e) {
    return toFormState(e);
  }
}

export async function revokeTokenAction(_: FormState, form: FormData): Promise<FormState> {
  try {
    const actor = await requireWriter("revoke API tokens");
    await revokeApiToken(await getDb(), actor, String(form.get("id") ?? ""));
    revalidatePath("/settings/api-tokens");
    return { ok: true, message: "Token revoked." };
  } catch (e) {
    return toFormState(e);
  }
}
