"use server";
import { revalidatePath } from "next/cache";
import { createUser, updateUser } from "@attested/identity";
import { getDb } from "@/lib/db";
import { formToObject, toFormState, type FormState } from "@/lib/form";
import { requireWriter } from "@/lib/session";

export async function createUserAction(_: FormState, form: FormData): Promise<FormState> {
  try {
    const actor = await requireWriter("create users");
    const u = await createUser(await getDb(), actor, formToObject(form) as never);
    revalidatePath("/settings/users");
    return { ok: true, message: `${u.email} added as ${u.role === "ADMIN" ? "Admin" : "Auditor"}.` };
  } catch (e) {
    return toFormState(e);
  }
}

export async function updateUserAction(_: FormState, form: FormData): Promise<FormState> {
  try {
    const actor = await requireWriter("change users");
    const id = String(form.get("id") ?? "");
    const change = form.get("change");
    const input =
      change === "role" ? { role: form.get("role") } : change === "disable" ? { disabled: true } : change === "enable" ? { disabled: false } : {};
    const u = await updateUser(await getDb(), actor, id, input);
    revalidatePath("/settings/users");
    return { ok: true, message: `${u.email} updated.` };
  } catch (e) {
    return toFormState(e);
  }
}
