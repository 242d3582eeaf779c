import { z } from "zod";
import { signatureAlgorithmSchema } from "./keys";
import { checkTemplateField } from "./template";
import { PkiError, invalidInput, type PkiFieldError } from "@attested/errors";

// "Use Certificate For" choices (guide: Client Authentication), RFC 5280 §4.2.1.12 OIDs.
export const EXTENDED_KEY_USAGES = {
  clientAuth: { oid: "1.3.6.1.5.5.7.3.2", label: "Client Authentication" },
  serverAuth: { oid: "1.3.6.1.5.5.7.3.1", label: "Server Authentication" },
  emailProtection: { oid: "1.3.6.1.5.5.7.3.4", label: "Email Protection" },
  codeSigning: { oid: "1.3.6.1.5.5.7.3.3", label: "Code Signing" },
  ocspSigning: { oid: "1.3.6.1.5.5.7.3.9", label: "OCSP Signing" },
} as const;
export type ExtendedKeyUsageName = keyof typeof EXTENDED_KEY_USAGES;

const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** The OID of an EKU given by name ("clientAuth") or as an OID. */
export function ekuOid(nameOrOid: string): string {
  return (EXTENDED_KEY_USAGES as Record<string, { oid: string }>)[nameOrOid]?.oid ?? nameOrOid;
}

const emptyToUndefined = (v: unknown) => (v === "" || v === null ? undefined : v);
const checkbox = (v: unknown) => (v === "on" || v === "true" ? true : v === "false" || v === "" || v === undefined ? false : v);

const ekuSchema = z
  .string()
  .trim()
  .refine((v) => v in EXTENDED_KEY_USAGES || OID.test(v), {
    message: `Use Certificate For must be one of ${Object.keys(EXTENDED_KEY_USAGES).join(", ")} or an OID`,
  });

type TemplateField = Parameters<typeof checkTemplateField>[0];

/** Syntax checks on the string itself, so every field reports at once (object refinements wait for all fields). */
const checkedTemplate = (field: TemplateField) => (text: string, ctx: z.RefinementCtx) => {
  for (const message of checkTemplateField(field, text)) ctx.addIssue({ code: "custom", message });
};

const sanField = (field: TemplateField, label: string) =>
  z.string().trim().max(1024, `${label} must be at most 1024 characters`).superRefine(checkedTemplate(field)).default("");

function makeTemplateSchema(requireFutureEnd: boolean) {
  return z
    .object({
      name: z.string().trim().min(1, "Name is required").max(100, "Name must be at most 100 characters"),
      subject: z
        .string({ message: "Subject is required" })
        .trim()
        .min(1, "Subject is required, e.g. CN=${/csr/subject/commonname}")
        .max(1024, "Subject must be at most 1024 characters")
        .superRefine(checkedTemplate("subject")),
      description: z.string().trim().max(1000, "Display Description must be at most 1000 characters").default(""),
      validityDays: z.preprocess(
        emptyToUndefined,
        z.coerce
          .number({ message: "Validity Period must be a number of days" })
          .int("Validity Period must be a whole number of days")
          .min(1, "Validity Period must be at least 1 day")
          .max(3650, "Validity Period must be at most 3650 days")
          .optional(),
      ),
      overrideValidity: z.preprocess(checkbox, z.boolean({ message: "Override Validity Period must be checked or not" })),
      overrideNotAfter: z.preprocess(emptyToUndefined, z.coerce.date({ message: "Choose a valid end date" }).optional()),
      signatureAlgorithm: signatureAlgorithmSchema.default("SHA-256"),
      sanOtherName: sanField("sanOtherName", "Other Name"),
      sanRfc822: sanField("sanRfc822", "RFC822"),
      sanDns: sanField("sanDns", "DNS"),
      sanUri: sanField("sanUri", "URI"),
      // On by default: the guide's template copies the SANs an Apple device's profile put in its CSR.
      allowCsrSans: z.preprocess(checkbox, z.boolean({ message: "Allow SANs from the CSR must be checked or not" })).default(true),
      extendedKeyUsages: z
        .array(ekuSchema, { message: "Use Certificate For must be a list" })
        .min(1, "Select at least one use in Use Certificate For")
        .default(["clientAuth"]),
    })
    .superRefine((t, ctx) => {
      if (t.overrideValidity) {
        if (!t.overrideNotAfter) {
          ctx.addIssue({ code: "custom", path: ["overrideNotAfter"], message: "Choose the end date of the override" });
        } else if (requireFutureEnd && t.overrideNotAfter.getTime() <= Date.now()) {
          ctx.addIssue({ code: "custom", path: ["overrideNotAfter"], message: "The override end date must be in the future" });
        }
      } else if (t.validityDays === undefined) {
        ctx.addIssue({ code: "custom", path: ["validityDays"], message: "Validity Period is required" });
      }
    });
}

/** The Certificate Template form / REST body: guide labels in every message, one issue per field. */
export const templateInputSchema = makeTemplateSchema(true);
/** The same shape, for templates already saved: an override date that has since passed is checked at issuance. */
export const certificateTemplateSchema = makeTemplateSchema(false);

export type TemplateInput = z.input<typeof templateInputSchema>;
export type CertificateTemplate = z.output<typeof templateInputSchema>;

export type TemplateValidation = { ok: true; template: CertificateTemplate } | { ok: false; errors: PkiFieldError[] };

/** Validates form / API input, returning field errors instead of throwing. */
export function validateTemplateInput(input: unknown): TemplateValidation {
  const r = templateInputSchema.safeParse(input);
  if (r.success) return { ok: true, template: r.data };
  return { ok: false, errors: invalidInput(r.error.issues).errors! };
}

/** Validates form / API input, throwing a PkiError (`invalidInput`, with the first failing field). */
export function parseTemplateInput(input: unknown): CertificateTemplate {
  const r = templateInputSchema.safeParse(input);
  if (!r.success) throw invalidInput(r.error.issues);
  return r.data;
}

// A saved template object is checked once: issuance passes the configuration cache's object each time.
const checkedTemplates = new WeakMap<object, CertificateTemplate>();

/** For saved templates (no "must be in the future" check). */
export function parseCertificateTemplate(input: unknown): CertificateTemplate {
  const hit = typeof input === "object" && input !== null ? checkedTemplates.get(input) : undefined;
  if (hit) return hit;
  const r = certificateTemplateSchema.safeParse(input);
  if (!r.success) {
    const e = invalidInput(r.error.issues);
    throw new PkiError("invalidInput", `Certificate template: ${e.message}`, e.field, e.errors);
  }
  if (typeof input === "object" && input !== null) checkedTemplates.set(input, r.data);
  return r.data;
}

const DAY = 86_400_000;

/** The end of validity a template asks for: the override date, else now + Validity Period days. */
export function templateNotAfter(t: Pick<CertificateTemplate, "overrideValidity" | "overrideNotAfter" | "validityDays">, now: Date): Date {
  if (t.overrideValidity && t.overrideNotAfter) return new Date(t.overrideNotAfter);
  return new Date(now.getTime() + (t.validityDays ?? 365) * DAY);
}
