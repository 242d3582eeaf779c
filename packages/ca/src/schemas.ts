import { z } from "zod";
import { KEY_LABEL_PATTERN } from "@attested/pki";
import { CA_PURPOSES, EXPIRY_NOTIFICATION_FREQUENCIES, KEY_SIZES, MANUAL_REVOCATION_REASONS, REASON_CODES, SIGNATURE_ALGORITHMS } from "./options";

const checkbox = z.preprocess((v) => v === true || v === "on" || v === "true", z.boolean());
const optionalInt = (min: number, max: number, msg: string) =>
  z.preprocess((v) => (v === "" || v === null || v === undefined ? undefined : v), z.coerce.number().int(msg).min(min, msg).max(max, msg).optional());

const caSettings = {
  expiryNotificationDays: optionalInt(1, 365, "Choose an expiry notification frequency").refine(
    (v) => v === undefined || (EXPIRY_NOTIFICATION_FREQUENCIES as readonly number[]).includes(v),
    "Choose an expiry notification frequency",
  ),
  notifyOnEnrollment: checkbox.default(false),
  revokeUnusedDays: optionalInt(1, 3650, "Enter a number of days between 1 and 3650"),
  revokeSinceLastUsage: checkbox.default(false),
  revokeSinceIssuance: checkbox.default(false),
  revocationReason: z.enum(REASON_CODES.map((r) => r.value) as [string, ...string[]], { message: "Choose a reason code" }).default("unspecified"),
};

function revocationRule<T extends { revokeUnusedDays?: number; revokeSinceLastUsage: boolean; revokeSinceIssuance: boolean }>(v: T, ctx: z.RefinementCtx) {
  if (v.revokeUnusedDays && !v.revokeSinceLastUsage && !v.revokeSinceIssuance)
    ctx.addIssue({ code: "custom", path: ["revokeSinceLastUsage"], message: "Select Since last usage and/or Since certificate issuance" });
  if (!v.revokeUnusedDays && (v.revokeSinceLastUsage || v.revokeSinceIssuance))
    ctx.addIssue({ code: "custom", path: ["revokeUnusedDays"], message: "Enter the number of days" });
}

export const caInputSchema = z
  .object({
    purpose: z.enum(CA_PURPOSES, { message: "Choose what the CA is for" }),
    type: z.enum(["ROOT", "INTERMEDIATE"], { message: "Choose Root CA or Intermediate CA" }),
    parentId: z.string().trim().optional(),
    generatedVia: z.enum(["internal", "pkcs11"], { message: "Choose how the key is generated" }),
    // Hardware security module only: the key's label in the token (a new key's, or an existing one's).
    keyLabel: z.preprocess(
      (v) => (typeof v === "string" && v.trim() === "" ? undefined : v),
      z.string().trim().regex(KEY_LABEL_PATTERN, "Key Label: letters, digits, space and . _ : - (up to 64 characters)").optional(),
    ),
    useExistingKey: checkbox.default(false),
    commonName: z.string().trim().min(1, "Common Name is required").max(64, "Common Name must be at most 64 characters"),
    keyAlgorithm: z.enum(KEY_SIZES.map((k) => k.value) as [string, ...string[]], { message: "Key size not allowed" }),
    signatureAlgorithm: z.enum(SIGNATURE_ALGORITHMS, { message: "Signature algorithm not allowed" }),
    validityYears: z.coerce
      .number({ message: "Enter a number of years" })
      .int("Enter whole years")
      .min(1, "Validity must be 1 to 30 years")
      .max(30, "Validity must be 1 to 30 years"),
    ...caSettings,
  })
  .superRefine((v, ctx) => {
    if (v.type === "INTERMEDIATE" && !v.parentId) ctx.addIssue({ code: "custom", path: ["parentId"], message: "Choose the parent Certificate Authority" });
    if (v.generatedVia === "internal" && (v.keyLabel || v.useExistingKey))
      ctx.addIssue({ code: "custom", path: ["keyLabel"], message: "A key label applies to a hardware security module key only" });
    if (v.useExistingKey && !v.keyLabel) ctx.addIssue({ code: "custom", path: ["keyLabel"], message: "Enter the label of the key in the token" });
    revocationRule(v, ctx);
  });
export type CaInput = z.input<typeof caInputSchema>;

export const caSettingsSchema = z.object(caSettings).superRefine(revocationRule);

export const revokeInputSchema = z.object({
  reason: z.enum(MANUAL_REVOCATION_REASONS.map((r) => r.value) as [string, ...string[]], { message: "Choose a reason code" }),
});
