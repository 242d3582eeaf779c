"use server";
import { revalidatePath } from "next/cache";
import { createUser, resetPassword, resetSecondFactor, setAdminsNeedSecondFactor, updateUser } from "@attested/identity";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { requireWriter } from "@/lib/session";

export const createUserAction = formAction(async (input) => {
  const actor = await requireWriter("create users");
  const u = await createUser(await getDb(), actor, input);
  revalidatePath("/settings/users");
  return { ok: true, reset: true, message: `${u.email} added as ${u.role === "ADMIN" ? "Admin" : "Auditor"}.` };
});

export const updateUserAction = formAction(async (input) => {
  const actor = await requireWriter("change users");
  const change =
    input.change === "role"
      ? { role: input.role }
      : input.change === "disable"
        ? { disabled: true }
        : input.change === "enable"
          ? { disabled: false }
          : input.change === "breakGlass"
            ? { breakGlass: true }
            : input.change === "notBreakGlass"
              ? { breakGlass: false }
              : {};
  const u = await updateUser(await getDb(), actor, input.id ?? "", change);
  revalidatePath("/settings/users");
  return { ok: true, message: `${u.email} updated.` };
});

export const resetPasswordAction = formAction(async (input) => {
  const actor = await requireWriter("reset passwords");
  await resetPassword(await getDb(), actor, { id: input.id ?? "" }, input.password ?? "");
  revalidatePath("/settings/users");
  return { ok: true, reset: true, message: "Password reset. The user's sessions have ended." };
});

export const resetSecondFactorAction = formAction(async (input) => {
  const actor = await requireWriter("reset two-factor authentication");
  await resetSecondFactor(await getDb(), actor, input.id ?? "");
  revalidatePath("/settings/users");
  return { ok: true, message: "Two-factor authentication reset: the user signs in with their password and sets it up again." };
});

export const requireSecondFactorAction = formAction(async (input) => {
  const actor = await requireWriter("change the sign-in requirements");
  await setAdminsNeedSecondFactor(await getDb(), actor, input.requireSecondFactorForAdmins === "on");
  revalidatePath("/settings/users");
  return { ok: true, message: "Saved." };
});
