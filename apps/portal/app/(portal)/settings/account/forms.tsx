"use client";
import { useActionState } from "react";
import { Field, FormMessage, SubmitButton, invalid, formKey } from "@/components/form";
import { emptyForm } from "@/lib/form-state";
import { beginSecondFactorAction, changePasswordAction, confirmSecondFactorAction, turnOffSecondFactorAction } from "./actions";

export function ChangePasswordForm() {
  const [state, action] = useActionState(changePasswordAction, emptyForm);
  const err = state.fieldErrors ?? {};
  return (
    <form noValidate key={formKey(state)} action={action} className="grid max-w-md grid-cols-1 gap-4" aria-label="Change password">
      <FormMessage state={state} />
      <Field label="Current password" name="currentPassword" error={err.currentPassword}>
        <input className="input" type="password" autoComplete="current-password" {...invalid(state, "currentPassword")} />
      </Field>
      <Field label="New password" name="newPassword" error={err.newPassword} hint="At least 12 characters, not a common or guessable one.">
        <input className="input" type="password" autoComplete="new-password" {...invalid(state, "newPassword")} />
      </Field>
      <div>
        <SubmitButton>Change password</SubmitButton>
      </div>
    </form>
  );
}

/** Settings > Account > Two-factor authentication: set up (QR code, first code, recovery codes) or turn off. */
export function SecondFactorForms({ enabled }: { enabled: boolean }) {
  const [begun, begin] = useActionState(beginSecondFactorAction, emptyForm);
  const [confirmed, confirm] = useActionState(confirmSecondFactorAction, emptyForm);
  const [off, turnOff] = useActionState(turnOffSecondFactorAction, emptyForm);
  const codes = confirmed.reveal?.recoveryCodes;
  if (codes)
    return (
      <div className="space-y-3" data-testid="recovery-codes">
        <p role="status" className="rounded-md border border-emerald-200 bg-emerald-50 px-3 py-2 text-sm text-emerald-800">
          Two-factor authentication is on. Save these recovery codes somewhere safe: each signs you in once if you lose your phone. They are not shown again.
        </p>
        <pre className="max-w-xs rounded-md bg-slate-100 p-3 font-mono text-sm">{codes}</pre>
      </div>
    );
  if (enabled)
    return (
      <form noValidate key={formKey(off)} action={turnOff} className="grid max-w-md grid-cols-1 gap-4" aria-label="Turn off two-factor authentication">
        <FormMessage state={off} />
        <Field label="Code from your app" name="code" error={off.fieldErrors?.code}>
          <input className="input font-mono" autoComplete="one-time-code" {...invalid(off, "code")} />
        </Field>
        <div>
          <SubmitButton>Turn off</SubmitButton>
        </div>
      </form>
    );
  const setup = begun.reveal;
  if (!setup)
    return (
      <form action={begin} aria-label="Set up two-factor authentication">
        <FormMessage state={begun} />
        <SubmitButton>Set up authenticator app</SubmitButton>
      </form>
    );
  return (
    <form noValidate key={formKey(confirmed)} action={confirm} className="grid max-w-md grid-cols-1 gap-4" aria-label="Confirm two-factor authentication">
      <p className="text-sm text-slate-600">
        Scan this code with an authenticator app (1Password, Google Authenticator, Microsoft Authenticator…), then enter the code it shows.
      </p>
      {/* biome-ignore lint/performance/noImgElement: a data: URL made on the server, nothing to optimize */}
      <img src={setup.qr} alt="QR code to scan with your authenticator app" width={200} height={200} className="rounded-md border border-slate-200" />
      <p className="text-xs text-slate-500">
        Cannot scan? Enter this key in the app:{" "}
        <code data-testid="totp-secret" className="break-all font-mono">
          {setup.secret}
        </code>
      </p>
      <FormMessage state={confirmed} />
      <Field label="Code from your app" name="code" error={confirmed.fieldErrors?.code}>
        <input className="input font-mono" autoComplete="one-time-code" {...invalid(confirmed, "code")} />
      </Field>
      <div>
        <SubmitButton>Turn on</SubmitButton>
      </div>
    </form>
  );
}
