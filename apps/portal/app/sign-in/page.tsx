import { redirect } from "next/navigation";
import { currentActor } from "@/lib/session";
import { SignInForm } from "./form";

export const dynamic = "force-dynamic";
export const metadata = { title: "Sign in" };

export default async function SignInPage() {
  if (await currentActor()) redirect("/");
  return (
    <main className="grid min-h-screen place-items-center bg-slate-900 px-4">
      <div className="w-full max-w-sm">
        <div className="mb-6 text-center">
          <span className="mx-auto grid h-12 w-12 place-items-center rounded-lg bg-indigo-500 text-lg font-bold text-white">AP</span>
          <h1 className="mt-4 text-xl font-semibold text-white">Sign in to Attested PKI</h1>
          <p className="mt-1 text-sm text-slate-400">Management Portal</p>
        </div>
        <div className="card p-6">
          <SignInForm />
        </div>
      </div>
    </main>
  );
}
