import Link from "next/link";

export function PageHeader({
  title,
  description,
  actions,
  crumbs,
}: {
  title: string;
  description?: React.ReactNode;
  actions?: React.ReactNode;
  crumbs?: { label: string; href?: string }[];
}) {
  return (
    <div className="mb-6 flex flex-wrap items-end justify-between gap-4">
      <div>
        {crumbs && (
          <nav aria-label="Breadcrumb" className="mb-1 text-xs text-slate-500">
            {crumbs.map((c, i) => (
              <span key={i}>
                {i > 0 && <span className="mx-1">›</span>}
                {c.href ? (
                  <Link className="hover:underline" href={c.href}>
                    {c.label}
                  </Link>
                ) : (
                  c.label
                )}
              </span>
            ))}
          </nav>
        )}
        <h1 className="text-2xl font-semibold tracking-tight text-slate-900">{title}</h1>
        {description && <p className="mt-1 max-w-3xl text-sm text-slate-600">{description}</p>}
      </div>
      {actions && <div className="flex gap-2">{actions}</div>}
    </div>
  );
}

export function Card({
  title,
  children,
  actions,
  className = "",
}: {
  title?: React.ReactNode;
  children: React.ReactNode;
  actions?: React.ReactNode;
  className?: string;
}) {
  return (
    <section className={`card ${className}`}>
      {(title || actions) && (
        <header className="flex items-center justify-between border-b border-slate-100 px-5 py-3">
          <h2 className="text-sm font-semibold text-slate-800">{title}</h2>
          {actions}
        </header>
      )}
      <div className="p-5">{children}</div>
    </section>
  );
}

export function EmptyState({ title, children, action }: { title: string; children?: React.ReactNode; action?: React.ReactNode }) {
  return (
    <div className="flex flex-col items-center justify-center rounded-lg border border-dashed border-slate-300 bg-white px-6 py-12 text-center">
      <p className="text-sm font-semibold text-slate-800">{title}</p>
      {children && <div className="mt-1 max-w-md text-sm text-slate-500">{children}</div>}
      {action && <div className="mt-4">{action}</div>}
    </div>
  );
}

const badgeColors = {
  green: "bg-emerald-50 text-emerald-700 ring-emerald-600/20",
  red: "bg-red-50 text-red-700 ring-red-600/20",
  amber: "bg-amber-50 text-amber-800 ring-amber-600/20",
  slate: "bg-slate-100 text-slate-700 ring-slate-500/20",
  indigo: "bg-indigo-50 text-indigo-700 ring-indigo-600/20",
};
export function Badge({ color = "slate", children }: { color?: keyof typeof badgeColors; children: React.ReactNode }) {
  return <span className={`inline-flex items-center rounded-md px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${badgeColors[color]}`}>{children}</span>;
}

export const outcomeColor = (o: string) => (o === "success" ? "green" : o === "denied" ? "amber" : "red") as keyof typeof badgeColors;

/** Tabs of the Basic-then-tabs pattern; each tab is a link (?tab=...), so it works without script. */
export function Tabs({ tabs, active, base }: { tabs: { id: string; label: string }[]; active: string; base: string }) {
  return (
    <div role="tablist" className="mb-4 flex gap-1 border-b border-slate-200">
      {tabs.map((t) => (
        <Link
          key={t.id}
          role="tab"
          aria-selected={t.id === active}
          href={`${base}?tab=${t.id}`}
          className={`-mb-px border-b-2 px-4 py-2 text-sm font-medium ${
            t.id === active ? "border-indigo-600 text-indigo-700" : "border-transparent text-slate-500 hover:text-slate-800"
          }`}
        >
          {t.label}
        </Link>
      ))}
    </div>
  );
}

export function DefinitionList({ items }: { items: [string, React.ReactNode][] }) {
  return (
    <dl className="grid grid-cols-1 gap-x-6 gap-y-3 text-sm sm:grid-cols-[12rem_1fr]">
      {items.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="font-medium text-slate-500">{k}</dt>
          {/* Long names wrap between words; only a word wider than the column (a URL, a hash) is broken. */}
          <dd className="min-w-0 wrap-anywhere text-slate-800">{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export const formatTime = (d: Date | string | null | undefined) => (d ? `${new Date(d).toISOString().replace("T", " ").slice(0, 19)} UTC` : "—");

/** Keyset pagination for list pages: back to the newest page, or on to older rows. */
export function KeysetPager({
  filters,
  cursor,
  nextCursor,
  className = "mt-4",
}: {
  filters: Record<string, string | number | undefined>;
  cursor?: string;
  nextCursor: string | null;
  className?: string;
}) {
  const keep = new URLSearchParams(
    Object.entries(filters)
      .filter(([k, v]) => v !== undefined && v !== "" && k !== "cursor" && k !== "limit")
      .map(([k, v]) => [k, String(v)]),
  );
  return (
    <div className={`${className} flex justify-between text-sm`}>
      {cursor ? (
        <Link className="link" href={`?${keep}`}>
          ← Newest
        </Link>
      ) : (
        <span />
      )}
      {nextCursor && (
        <Link className="link" href={`?${new URLSearchParams([...keep, ["cursor", nextCursor]])}`}>
          Older →
        </Link>
      )}
    </div>
  );
}
