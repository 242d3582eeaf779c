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
      {/* The menu and the header stay in view however long the page. */}
      <aside className="sticky top-0 h-screen w-60 shrink-0 overflow-y-auto bg-slate-900 px-3 py-5">
        <Link href="/" className="mb-8 flex items-center gap-2 px-3">
          <span className="grid h-8 w-8 place-items-center rounded-md bg-indigo-500 text-sm font-bold text-white">AP</span>
          <span className="text-sm font-semibold text-white">Attested PKI</span>
        </Link>
        <SideNav />
      </aside>
      <div className="flex min-w-0 flex-1 flex-col">
        <header className="sticky top-0 z-20 flex h-14 items-center justify-end gap-3 border-b border-slate-200 bg-white px-8 text-sm">
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
        {/* A page marked data-wide (a wide table) takes the full width. */}
        <main className="mx-auto w-full max-w-7xl flex-1 px-8 py-8 has-[[data-wide]]:max-w-none">{children}</main>
      </div>
    </div>
  );
}
