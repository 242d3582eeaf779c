"use client";
import { useEffect, useRef, useState } from "react";
import type { FormState } from "@/lib/form-state";

// Rows of a list edited in a form ("Add" appends one, "Remove" drops it). Inputs stay uncontrolled
// (the form pattern of components/form.tsx); each row has a stable key so removing one keeps the
// others' typed values. When the saved list changes (after "Update"), the rows start over from it.

export interface Row<T> {
  key: number;
  init: T;
}

export function useRows<T extends Record<string, string | undefined>>(saved: T[], state: FormState, prefix: string, blank: T) {
  const next = useRef(0);
  const make = (items: T[]) => items.map((init) => ({ key: next.current++, init }));
  const [rows, setRows] = useState<Row<T>[]>(() => make(saved));
  // After "Update": a refused form comes back with what was posted, a saved one with the new list.
  const savedKey = JSON.stringify(saved);
  const seen = useRef({ savedKey, state });
  // biome-ignore lint/correctness/useExhaustiveDependencies: prefix, blank and make are the same for the form's life; only a new saved list or form state starts the rows over.
  useEffect(() => {
    if (seen.current.state !== state && state.values) {
      const posted: T[] = [];
      for (const [k, v] of Object.entries(state.values)) {
        const m = /^(.+)\.(\d+)\.(\w+)$/.exec(k);
        if (m?.[1] !== prefix || !(m[3]! in blank)) continue;
        posted[Number(m[2])] = { ...(posted[Number(m[2])] ?? blank), [m[3]!]: v };
      }
      setRows(make(Array.from(posted, (r) => r ?? blank)));
    } else if (seen.current.savedKey !== savedKey) setRows(make(JSON.parse(savedKey) as T[]));
    seen.current = { savedKey, state };
  }, [savedKey, state]);
  return {
    rows,
    add: () => setRows((r) => [...r, ...make([blank])]),
    remove: (key: number) => setRows((r) => r.filter((x) => x.key !== key)),
    /** Props of the input for `field` of the row at `index`: name, value, error wiring. */
    field: (index: number, field: keyof T & string, row: Row<T>) => {
      const name = `${prefix}.${index}.${field}`;
      const error = state.fieldErrors?.[name];
      return {
        id: `${name}#${row.key}`,
        name,
        defaultValue: row.init[field] ?? "",
        "aria-invalid": error ? (true as const) : undefined,
        "aria-describedby": error ? `${name}-error` : undefined,
      };
    },
    error: (index: number, field: string) => state.fieldErrors?.[`${prefix}.${index}.${field}`],
  };
}

/** A field inside a row: its own label (rows repeat labels, so each row is a labelled group). */
export function RowField({
  label,
  htmlFor,
  error,
  errorId,
  children,
  className = "",
}: {
  label: string;
  htmlFor: string;
  error?: string;
  errorId: string;
  children: React.ReactNode;
  className?: string;
}) {
  return (
    <div className={`space-y-1 ${className}`}>
      <label htmlFor={htmlFor}>{label}</label>
      {children}
      {error && (
        <p id={errorId} role="alert" className="text-xs font-medium text-red-600">
          {error}
        </p>
      )}
    </div>
  );
}
