import { redirect } from "next/navigation";
import { currentActor } from "@/lib/session";
import { SignInForm } from "./form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

export default async function SignInPage({ searchParams }: { searchParams: Promise<{ changed?: string }> }) {
  if (await currentActor()) redirect("/");
  const { changed } = await searchParams;
  return (
    <main className="grid min-h-screen place-items-center bg-slate-900 px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <span className="mx-auto grid h-12 w-12 place-items-center rounded-lg bg-indigo-500 text-lg font-bold text-white">AP</span>
          <h1 className="mt-4 text-xl font-semibold text-white">Sign in to Attested PKI</h1>
          <p className="mt-1 text-sm text-slate-400">Management Portal</p>
        </div>
        <div className="card p-6">
          {changed === "1" && (
            <p role="status" className="mb-4 rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
              Password changed. Sign in again with your new password and a code from your app.
            </p>
          )}
          <SignInForm />
        </div>
      </div>
    </main>
  );
}
