"use server";
import { headers } from "next/headers";
import { changeOwnPassword } from "@attested/identity";
import { signIn } from "@/lib/auth";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { requireReader } from "@/lib/session";

export const changePasswordAction = formAction(async (input) => {
  const actor = await requireReader();
  await changeOwnPassword(await getDb(), actor, input, (await headers()).get("x-real-ip"));
  // Every session has ended; this browser goes on with a fresh one, and loads the page again with it.
  await signIn("credentials", { email: actor.name, password: input.newPassword, redirectTo: "/settings/account?changed=1" });
  return {};
});
