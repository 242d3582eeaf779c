"use client";
import { useActionState } from "react";
import { ConfirmSubmit, Field, FormMessage, invalid, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { MANUAL_REVOCATION_REASONS } from "@attested/ca/options";
import { releaseHoldAction, revokeCertificateAction } from "./actions";

export function RevokeForm({ id, onHold }: { id: string; onHold: boolean }) {
  const [state, action] = useActionState(revokeCertificateAction, emptyForm);
  const [relState, release] = useActionState(releaseHoldAction, emptyForm);
  return (
    <div className="space-y-4">
      <FormMessage state={state.error || state.message ? state : relState} />
      <form noValidate key={formKey(state)} action={action} className="flex flex-wrap items-end gap-3" aria-label="Revoke certificate">
        <input type="hidden" name="id" value={id} />
        <Field label="Reason Code" name="reason" error={state.fieldErrors?.reason}>
          <select className="input w-64" {...invalid(state, "reason", "unspecified")}>
            {MANUAL_REVOCATION_REASONS.filter((r) => !onHold || r.value !== "certificateHold").map((r) => (
              <option key={r.value} value={r.value}>
                {r.label}
              </option>
            ))}
          </select>
        </Field>
        <ConfirmSubmit message="Revoke this certificate? Devices using it lose access once relying parties check the CRL or OCSP.">Revoke</ConfirmSubmit>
      </form>
      {onHold && (
        <form noValidate key={formKey(relState)} action={release}>
          <input type="hidden" name="id" value={id} />
          <ConfirmSubmit variant="secondary" message="Release the hold? The certificate becomes good again.">
            Release hold
          </ConfirmSubmit>
        </form>
      )}
    </div>
  );
}
