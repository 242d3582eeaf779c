/** What every form action returns: field errors to show beside inputs, or a message. Client-safe. */
export interface FormState {
  ok?: boolean;
  message?: string;
  error?: string;
  fieldErrors?: Record<string, string>;
  /** What was submitted, so a rejected form keeps the user's input (secrets excluded). */
  values?: Record<string, string>;
  /** Set by an action whose form should start empty after success (e.g. "Add user"). */
  reset?: boolean;
  /** Values to show once (e.g. a new API token). */
  reveal?: Record<string, string>;
}

export const emptyForm: FormState = {};
