"use server";
import { AuthError } from "next-auth";
import { SSO_PROVIDER_ID, signIn } from "@/lib/auth";
import type { FormState } from "@/lib/form";

export type SignInState = FormState & { secondFactor?: boolean };

export async function signInAction(_: SignInState, form: FormData): Promise<SignInState> {
  try {
    await signIn("credentials", { email: form.get("email"), password: form.get("password"), code: form.get("code") ?? "", redirectTo: "/" });
    return {};
  } catch (e) {
    if (e instanceof AuthError) {
      const code = (e as AuthError & { code?: string }).code;
      if (code === "rate_limited") return { error: "Too many failed attempts. Wait a moment and try again." };
      if (code === "second_factor") return { secondFactor: true };
      if (code === "sso_required") return { error: "Sign in with single sign-on: password sign-in is kept for break-glass accounts." };
      if (code === "invalid_code")
        return {
          secondFactor: true,
          error: "That code is not right. Enter the 6-digit code your app shows now, or a recovery code.",
          fieldErrors: { code: "Not right" },
        };
      // One message for unknown emails, wrong passwords and disabled users.
      return { error: "Invalid email or password." };
    }
    throw e; // the redirect after a successful sign-in
  }
}

/** "Sign in with single sign-on": off to the provider, back through /api/auth/callback/oidc. */
export async function ssoSignInAction(): Promise<void> {
  await signIn(SSO_PROVIDER_ID, { redirectTo: "/" });
}
