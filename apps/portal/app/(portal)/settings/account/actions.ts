"use server";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import QRCode from "qrcode";
import { beginSecondFactorSetup, changeOwnPassword, confirmSecondFactorSetup, resetSecondFactor, secondFactorStatus } from "@attested/identity";
import { signIn } from "@/lib/auth";
import { getDb } from "@/lib/db";
import { formAction } from "@/lib/form";
import { requireSignedIn } from "@/lib/session";

export const changePasswordAction = formAction(async (input) => {
  const actor = await requireSignedIn();
  const db = await getDb();
  await changeOwnPassword(db, actor, input, (await headers()).get("x-real-ip"));
  // With a second factor, signing in again needs a code: back to the sign-in page.
  if ((await secondFactorStatus(db, actor.id!)).enabled) redirect("/sign-in?changed=1");
  // Every session has ended; this browser goes on with a fresh one, and loads the page again with it.
  await signIn("credentials", { email: actor.name, password: input.newPassword, redirectTo: "/settings/account?changed=1" });
  return {};
});

/** Two-factor setup, step 1: a new secret, shown as a QR code and as text. */
export const beginSecondFactorAction = formAction(async () => {
  const actor = await requireSignedIn();
  const { secret, uri } = await beginSecondFactorSetup(await getDb(), actor);
  return { reveal: { secret, uri, qr: await QRCode.toDataURL(uri, { margin: 1, width: 200 }) } };
});

/** Step 2: the app's first code turns it on; the recovery codes are shown this once. */
export const confirmSecondFactorAction = formAction(async (input) => {
  const actor = await requireSignedIn();
  const { recoveryCodes } = await confirmSecondFactorSetup(await getDb(), actor, input.code ?? "");
  return { ok: true, reveal: { recoveryCodes: recoveryCodes.join("\n") } };
});

export const turnOffSecondFactorAction = formAction(async (input) => {
  const actor = await requireSignedIn();
  await resetSecondFactor(await getDb(), actor, actor.id!, input.code ?? "");
  redirect("/settings/account?secondFactor=off");
});
