import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { ssoProvider } from "@attested/identity";
import { publicUrl } from "@/lib/config";
import { otherAddress } from "@/lib/public-address";
import { getDb } from "@/lib/db";
import { currentActor } from "@/lib/session";
import { ssoSignInAction } from "./actions";
import { SignInForm } from "./form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ from?: string; changed?: string; error?: string }> }) {
  if (await currentActor()) redirect("/");
  const configured = await publicUrl();
  const used = otherAddress(configured, await headers());
  const { changed, error, from: fromParam } = await searchParams;
  const from = fromParam?.slice(0, 200);
  // Another address than PUBLIC_URL: sign in at PUBLIC_URL, where the session will hold. Once only
  // (`from`), so a proxy that rewrites the address cannot make a loop.
  if (used && !from) redirect(`${configured}/sign-in?from=${encodeURIComponent(used)}`);
  const sso = !!(await ssoProvider(await getDb()).catch(() => null));
  return (
    <main className="grid min-h-screen place-items-center bg-slate-900 px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <span className="mx-auto grid h-12 w-12 place-items-center rounded-lg bg-indigo-500 text-lg font-bold text-white">AP</span>
          <h1 className="mt-4 text-xl font-semibold text-white">Sign in to Attested PKI</h1>
          <p className="mt-1 text-sm text-slate-400">Management Portal</p>
        </div>
        {from && (
          <p role="status" data-testid="address-notice" className="mb-4 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900">
            {used ? (
              <>
                This portal is configured for <strong>{configured}</strong> (PUBLIC_URL) but your browser reaches it as <strong>{used}</strong>, so a sign-in
                cannot hold. Open {configured}, or set PUBLIC_URL to the address you use.
              </>
            ) : (
              <>
                You opened the portal at <strong>{from}</strong>; its address is <strong>{configured}</strong> (PUBLIC_URL), so you were brought here to sign
                in. Use this address from now on.
              </>
            )}
          </p>
        )}
        <div className="card p-6">
          {changed === "1" && (
            <p role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
              Password changed. Sign in again with your new password and a code from your app.
            </p>
          )}
          {error === "sso-refused" && (
            <p role="alert" className="mb-4 rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-700">
              Single sign-on worked, but your account may not use the portal: none of your groups is given a role. Ask an admin.
            </p>
          )}
          {sso && (
            <form action={ssoSignInAction} className="mb-4">
              <button type="submit" className="btn-primary w-full justify-center">
                Sign in with single sign-on
              </button>
              <p className="mt-3 text-center text-xs text-slate-500">or with a local account</p>
            </form>
          )}
          <SignInForm />
        </div>
      </div>
    </main>
  );
}
