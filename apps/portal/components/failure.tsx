"use client";

import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useState } from "react";

// What the portal shows when a page fails on the server. Next.js hides the error itself from the browser
// (only its digest, which is in the server log), so the panel asks /readyz whether the database is the
// cause: the one failure an admin can act on (or wait out) without reading the logs.

type Cause = "checking" | "database" | "other";

export function FailurePanel({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const router = useRouter();
  const [cause, setCause] = useState<Cause>("checking");
  // biome-ignore lint/correctness/useExhaustiveDependencies: a new error (after "Try again") asks /readyz again.
  useEffect(() => {
    let live = true;
    fetch("/readyz", { cache: "no-store" })
      .then((r) => r.json() as Promise<{ database?: string }>)
      .then((r) => live && setCause(r.database === "unreachable" ? "database" : "other"))
      .catch(() => live && setCause("other"));
    return () => {
      live = false;
    };
  }, [error]);

  return (
    <div role="alert" className="mx-auto max-w-xl rounded-lg border border-rose-200 bg-white p-6 shadow-sm">
      <h1 className="text-lg font-semibold text-slate-900">{cause === "database" ? "The database is not answering" : "This page could not be loaded"}</h1>
      <p className="mt-2 text-sm text-slate-600">
        {cause === "database"
          ? "Attested PKI cannot reach PostgreSQL. Nothing was changed. The portal and the ACME service reconnect by themselves: devices are told to retry, and this page works again once the database is back."
          : cause === "other"
            ? "The server failed while preparing this page. Nothing was changed; the error is in the server log."
            : "Checking whether the database is reachable…"}
      </p>
      {error.digest && (
        <p className="mt-2 text-xs text-slate-500">
          Reference for the server log: <code>{error.digest}</code>
        </p>
      )}
      <div className="mt-5 flex gap-2">
        <button
          type="button"
          className="btn-primary"
          onClick={() => {
            router.refresh();
            reset();
          }}
        >
          Try again
        </button>
        <Link href="/" className="btn-secondary">
          Home
        </Link>
      </div>
    </div>
  );
}

export function NotFoundPanel() {
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm">
      <h1 className="text-lg font-semibold text-slate-900">Not found</h1>
      <p className="mt-2 text-sm text-slate-600">There is nothing at this address. What it showed may have been deleted, or the link is mistyped.</p>
      <div className="mt-5">
        <Link href="/" className="btn-secondary">
          Home
        </Link>
      </div>
    </div>
  );
}
