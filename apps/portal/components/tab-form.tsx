"use client";
import { startTransition, useActionState, useEffect, useRef } from "react";
import { emptyForm, type FormState } from "@/lib/form-state";

/**
 * A form whose tabs are updated together by one "Update". React resets a form after its action;
 * for a <select> or checkbox that means the value mounted first, not the one just saved, and the
 * next Update would send the stale value. So the submit is dispatched by hand: the fields keep what
 * was typed, which is what was saved. Without script, `action` still posts the form.
 */
export function useTabForm(action: (prev: FormState, form: FormData) => Promise<FormState>) {
  const [state, dispatch, pending] = useActionState(action, emptyForm);
  const formRef = useRef<HTMLFormElement>(null);
  useEffect(() => {
    // A saved secret is never shown again: empty its field (empty keeps the stored one).
    const secret = formRef.current?.elements.namedItem("secret");
    if (state.ok && secret instanceof HTMLInputElement) secret.value = "";
  }, [state]);
  return {
    state,
    pending,
    formRef,
    formProps: {
      ref: formRef,
      action: dispatch,
      onSubmit: (e: React.FormEvent<HTMLFormElement>) => {
        e.preventDefault();
        const data = new FormData(e.currentTarget);
        startTransition(() => dispatch(data));
      },
    },
  };
}

export function UpdateButton({ pending }: { pending: boolean }) {
  return (
    <button type="submit" disabled={pending} className="btn-primary">
      {pending ? "Working…" : "Update"}
    </button>
  );
}
