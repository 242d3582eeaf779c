"use client";

import { FailurePanel } from "@/components/failure";

// A failure outside the portal's pages (its layout reads the session, so a database outage lands here).
export default function RootError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <main className="grid min-h-screen place-items-center bg-slate-50 p-8">
      <FailurePanel error={error} reset={reset} />
    </main>
  );
}
