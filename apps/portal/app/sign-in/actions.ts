"use server";
import { AuthError } from "next-auth";
import { signIn } from "@/lib/auth";
import type { FormState } from "@/lib/form";

export async function signInAction(_: FormState, form: FormData): Promise<FormState> {
  try {
    await signIn("credentials", { email: form.get("email"), password: form.get("password"), redirectTo: "/" });
    return {};
  } catch (e) {
    if (e instanceof AuthError) {
      // One message for unknown emails, wrong passwords and disabled users.
      if ((e as AuthError & { code?: string }).code === "rate_limited") return { error: "Too many failed attempts. Wait a moment and try again." };
      return { error: "Invalid email or password." };
    }
    throw e; // the redirect after a successful sign-in
  }
}
