import Link from "next/link";
import { SideNav } from "@/components/nav";
import { Badge } from "@/components/ui";
import { requireSignedIn } from "@/lib/session";
import { signOutAction } from "./actions";

export const dynamic = "force-dynamic";

export default async function PortalLayout({ children }: { children: React.ReactNode }) {
  const actor = await requireSignedIn();
  return (
    <div className="flex min-h-screen">
      <aside className="w-64 shrink-0 bg-slate-900 px-3 py-5">
        <Link href="/" className="mb-8 flex items-center gap-2 px-3">
          <span className="grid h-8 w-8 place-items-center rounded-md bg-indigo-500 text-sm font-bold text-white">AP</span>
          <span className="text-sm font-semibold text-white">Attested PKI</span>
        </Link>
        <SideNav />
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="flex items-center justify-end gap-3 border-b border-slate-200 bg-white px-8 py-3 text-sm">
          <span className="text-slate-600" data-testid="current-user">
            {actor.name}
          </span>
          <Badge color={actor.role === "ADMIN" ? "indigo" : "amber"}>{actor.role === "ADMIN" ? "Admin" : "Auditor"}</Badge>
          <form noValidate action={signOutAction}>
            <button type="submit" className="btn-secondary py-1">
              Sign out
            </button>
          </form>
        </header>
        <main className="mx-auto w-full max-w-7xl flex-1 px-8 py-8">{children}</main>
      </div>
    </div>
  );
}
