/** What every form action returns: field errors to show beside inputs, or a message. Client-safe. */
export interface FormState {
  ok?: boolean;
  message?: string;
  error?: string;
  fieldErrors?: Record<string, string>;
  /** What was submitted, so a rejected form keeps the user's input (secrets excluded). */
  values?: Record<string, string>;
  /** Values to show once (e.g. a new API token). */
  reveal?: Record<string, string>;
}

export const emptyForm: FormState = {};
