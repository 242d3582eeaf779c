import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { endSessions, groupsFromClaim, ssoProvider, ssoSignIn, verifySignIn } from "@attested/identity";
import { logger } from "@attested/log";
import { getDb } from "./db";

export class RateLimited extends CredentialsSignin {
  code = "rate_limited";
}
/** The password was right; the user has two-factor authentication on: the form asks for the code. */
export class SecondFactorRequired extends CredentialsSignin {
  code = "second_factor";
}
export class InvalidCode extends CredentialsSignin {
  code = "invalid_code";
}
/** Single sign-on is required and this local account is not break-glass. */
export class SsoRequired extends CredentialsSignin {
  code = "sso_required";
}

/** The id of the single sign-on provider in Auth.js (callback URL /api/auth/callback/oidc). */
export const SSO_PROVIDER_ID = "oidc";

// Built per request: the single sign-on provider is configured in Settings (cached configuration).
export const { handlers, auth, signIn, signOut } = NextAuth(async () => {
  const sso = await ssoProvider(await getDb()).catch(() => null);
  return {
    trustHost: true,
    session: { strategy: "jwt", maxAge: 8 * 60 * 60 },
    pages: { signIn: "/sign-in" },
    // Failed sign-ins are expected and already recorded as events; keep them out of the error log.
    logger: {
      error(error) {
        // `type` survives minification (class names do not).
        if ((error as { type?: string }).type === "CredentialsSignin") return;
        logger().error({ component: "auth", type: (error as { type?: string }).type ?? error.name, detail: error.message }, "auth error");
      },
    },
    providers: [
      Credentials({
        credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" }, code: { label: "Authentication code" } },
        async authorize(credentials, request) {
          // The custom server sets x-real-ip from the socket (or a trusted proxy).
          const ip = request?.headers?.get?.("x-real-ip") ?? null;
          const code = typeof credentials?.code === "string" ? credentials.code : "";
          const result = await verifySignIn(await getDb(), String(credentials?.email ?? ""), String(credentials?.password ?? ""), ip, code);
          if (!result.ok) {
            if (result.reason === "rate-limited") throw new RateLimited();
            if (result.reason === "second-factor") throw new SecondFactorRequired();
            if (result.reason === "invalid-code") throw new InvalidCode();
            if (result.reason === "sso-required") throw new SsoRequired();
            return null;
          }
          return { id: result.user.id, email: result.user.email, name: result.user.name, sessionVersion: result.user.sessionVersion };
        },
      }),
      ...(sso
        ? [
            {
              id: SSO_PROVIDER_ID,
              name: "Single sign-on",
              type: "oidc" as const,
              issuer: sso.issuer,
              clientId: sso.clientId,
              clientSecret: sso.clientSecret,
              authorization: { params: { scope: "openid email profile" } },
              checks: ["pkce", "state", "nonce"] as ("pkce" | "state" | "nonce")[],
              // The portal's own user (created or re-evaluated in the signIn callback) is looked up again in jwt.
              profile: (p: Record<string, unknown>) => ({ id: String(p.sub), email: String(p.email ?? ""), name: String(p.name ?? p.email ?? "") }),
            },
          ]
        : []),
    ],
    // Signing out ends every session of the user (each request compares the session's version).
    events: {
      async signOut(message) {
        const token = "token" in message ? message.token : null;
        if (token?.sub && typeof token.sv === "number") await endSessions(await getDb(), token.sub, token.sv);
      },
    },
    callbacks: {
      // Single sign-on: the groups decide, at every sign-in (creates, re-roles or refuses the user).
      async signIn({ account, profile, user }) {
        if (account?.provider !== SSO_PROVIDER_ID || !sso) return true;
        const result = await ssoSignIn(
          await getDb(),
          {
            issuer: sso.issuer,
            subject: String(profile?.sub ?? account.providerAccountId),
            email: String(profile?.email ?? ""),
            name: String(profile?.name ?? ""),
            groups: groupsFromClaim(profile?.[sso.groupsClaim]),
          },
          null,
        );
        if (!result.ok) return "/sign-in?error=sso-refused";
        // jwt() below reads these: the portal's user, not the provider's subject.
        user.id = result.user.id;
        (user as { sessionVersion?: number }).sessionVersion = result.user.sessionVersion;
        return true;
      },
      // The version is set at sign-in only: an "update" from the client never changes it.
      jwt({ token, user }) {
        if (user?.id) {
          token.sub = user.id;
          token.sv = user.sessionVersion;
        }
        return token;
      },
      session({ session, token }) {
        if (token.sub) session.user.id = token.sub;
        session.sessionVersion = token.sv;
        return session;
      },
    },
  };
});
