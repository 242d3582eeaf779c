"use client";

import { FailurePanel } from "@/components/failure";

export default function PortalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return <FailurePanel error={error} reset={reset} />;
}
