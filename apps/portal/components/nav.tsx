"use client";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { navigation } from "@/lib/nav";

export function SideNav() {
  const path = usePathname();
  return (
    <nav aria-label="Main" className="space-y-6">
      {navigation.map((s) => (
        <div key={s.section}>
          <p className="px-3 text-xs font-semibold uppercase tracking-wider text-slate-400">{s.section}</p>
          <ul className="mt-2 space-y-0.5">
            {s.items.map((i) => {
              const active = path === i.href || path.startsWith(`${i.href}/`);
              return (
                <li key={i.href}>
                  <Link
                    href={i.href}
                    aria-current={active ? "page" : undefined}
                    className={`block rounded-md px-3 py-1.5 text-sm ${active ? "bg-indigo-50 font-medium text-indigo-700" : "text-slate-300 hover:bg-slate-800 hover:text-white"}`}
                  >
                    {i.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </div>
      ))}
    </nav>
  );
}
