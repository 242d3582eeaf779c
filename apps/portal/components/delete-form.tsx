"use client";
import { useActionState } from "react";
import { ConfirmSubmit, FormMessage } from "./form";
import { emptyForm, type FormState } from "@/lib/form-state";

/** "Delete" with a confirmation; a refusal (e.g. "used by ...") shows above the button. */
export function DeleteForm({ action, id, what }: { action: (prev: FormState, form: FormData) => Promise<FormState>; id: string; what: string }) {
  const [state, dispatch] = useActionState(action, emptyForm);
  return (
    <form noValidate action={dispatch} className="space-y-2" aria-label={`Delete ${what}`}>
      <input type="hidden" name="id" value={id} />
      <FormMessage state={state} />
      <ConfirmSubmit message={`Delete ${what}? This cannot be undone.`}>Delete</ConfirmSubmit>
    </form>
  );
}
