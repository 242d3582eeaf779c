import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { endSessions, verifySignIn } from "@attested/identity";
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

export const { handlers, auth, signIn, signOut } = NextAuth({
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
          return null;
        }
        return { id: result.user.id, email: result.user.email, name: result.user.name, sessionVersion: result.user.sessionVersion };
      },
    }),
  ],
  // Signing out ends every session of the user (each request compares the session's version).
  events: {
    async signOut(message) {
      const token = "token" in message ? message.token : null;
      if (token?.sub && typeof token.sv === "number") await endSessions(await getDb(), token.sub, token.sv);
    },
  },
  callbacks: {
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
});
