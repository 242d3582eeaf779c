import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { verifySignIn } from "@attested/identity";
import { getDb } from "./db";

export class RateLimited extends CredentialsSignin {
  code = "rate_limited";
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
      console.error("[auth]", (error as { type?: string }).type ?? error.name, error.message);
    },
  },
  providers: [
    Credentials({
      credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
      async authorize(credentials, request) {
        // The custom server sets x-real-ip from the socket (or a trusted proxy).
        const ip = request?.headers?.get?.("x-real-ip") ?? null;
        const result = await verifySignIn(await getDb(), String(credentials?.email ?? ""), String(credentials?.password ?? ""), ip);
        if (!result.ok) {
          if (result.reason === "rate-limited") throw new RateLimited();
          return null;
        }
        return { id: result.user.id, email: result.user.email, name: result.user.name };
      },
    }),
  ],
  callbacks: {
    jwt({ token, user }) {
      if (user?.id) token.sub = user.id;
      return token;
    },
    session({ session, token }) {
      if (token.sub) session.user.id = token.sub;
      return session;
    },
  },
});
