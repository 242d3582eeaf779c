// Server actions convert errors in one place (lib/form.ts): validation, domain and PKI errors become
// the form's messages; anything else is rethrown.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConflictError, PkiError, UnsupportedMediaTypeError } from "@attested/errors";
import { toFormState } from "../lib/form";

describe("toFormState", () => {
  it("shows a domain error and a PKI refusal beside their field", () => {
    expect(toFormState(new ConflictError("A user with this email already exists", "email"))).toEqual({
      error: "A user with this email already exists",
      fieldErrors: { email: "A user with this email already exists" },
    });
    expect(toFormState(new PkiError("unsupportedAlgorithm", "Key size not allowed", "keyAlgorithm"))).toEqual({
      error: "Key size not allowed",
      fieldErrors: { keyAlgorithm: "Key size not allowed" },
    });
    expect(toFormState(new UnsupportedMediaTypeError("no"))).toEqual({ error: "no", fieldErrors: undefined });
  });

  it("names every invalid field of a zod error, and rethrows anything else", () => {
    const parsed = z.object({ name: z.string().min(1, "Name is required") }).safeParse({ name: "" });
    expect(toFormState(parsed.error)).toEqual({ error: "Please correct the highlighted fields.", fieldErrors: { name: "Name is required" } });
    const other = new Error("database down");
    expect(() => toFormState(other)).toThrow(other);
  });
});
