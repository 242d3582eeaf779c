import { z } from "zod";
import { VENDORS } from "./options";

export const dmpInputSchema = z.object({
  name: z.string().trim().min(1, "Name is required").max(100, "Name must be at most 100 characters"),
  description: z.string().trim().max(1000, "Description must be at most 1000 characters").default(""),
  type: z.literal("acme-enrollment-token", { message: "Choose the type ACME Client Certificate Enrollment Token" }),
  vendor: z.enum(Object.keys(VENDORS) as [keyof typeof VENDORS, ...(keyof typeof VENDORS)[]], { message: "Choose a vendor" }),
});

export const dmpSettingsSchema = z.object({
  name: dmpInputSchema.shape.name,
  description: dmpInputSchema.shape.description,
  allowServerNames: z.preprocess((v) => v === true || v === "on" || v === "true", z.boolean()).default(false),
  defaultCaId: z.preprocess((v) => (v === "" ? undefined : v), z.string().uuid("Choose a Certificate Authority").optional()),
  defaultTemplateId: z.preprocess((v) => (v === "" ? undefined : v), z.string().uuid("Choose a Certificate Template").optional()),
});

export const kapInputSchema = z.object({
  name: z.string().trim().min(1, "Name is required").max(100, "Name must be at most 100 characters"),
  description: z.string().trim().max(1000, "Display Description must be at most 1000 characters").default(""),
  type: z.literal("apple", { message: "Choose the type Apple" }),
});

export const kapTestRootsSchema = z.object({
  testTrustedRoots: z.string().trim().max(64_000, "Too much PEM text"),
});

// Rotate enrollment secret. A leaked secret: no grace, it and any previous one still held stop enrolling at once.
export const rotateSecretSchema = z
  .object({
    revokePrevious: z.boolean({ error: "revokePrevious must be true or false" }).default(false),
  })
  .strict();
