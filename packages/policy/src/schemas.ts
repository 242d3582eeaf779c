import { z } from "zod";
import { ATTRIBUTE_NAME, patternProblem } from "@attested/integrations";
import { parsePath } from "@attested/variables";
import {
  CONDITION_OPERATORS,
  DEFAULT_PRIORITY,
  IDENTITY_ATTRIBUTES,
  IDENTITY_ROOTS,
  IDENTITY_TYPES,
  LOOKUP_PURPOSES,
  POSTURE_CHECKS,
  VALUE_OPERATORS,
  type PostureCheck,
  type LookupPurpose,
} from "./options";

// Form and REST schemas of the Policy Management objects, one per section or tab, with the
// messages shown beside each field.

const checkbox = z.preprocess((v) => v === true || v === "on" || v === "true", z.boolean());
const choose = (what: string) => z.preprocess((v) => (v === "" || v === null ? undefined : v), z.string({ error: `Choose ${what}` }).uuid(`Choose ${what}`));

export const nameField = z.string({ error: "Name is required" }).trim().min(1, "Name is required").max(100, "Name must be at most 100 characters");
const descriptionField = (label = "Description") => z.string().trim().max(1000, `${label} must be at most 1000 characters`).default("");

// ---------------------------------------------------------------- Core Platform (Basic)

export const corePlatformBasicSchema = z.object({
  name: nameField,
  description: descriptionField(),
  type: z.literal("generic-http", { error: "Choose the type Generic HTTP" }),
});

export const corePlatformRenameSchema = z.object({ name: nameField, description: descriptionField() });

// ---------------------------------------------------------------- Security Signal Source

export const signalSourceBasicSchema = z.object({
  name: nameField,
  description: descriptionField(),
  lookupPurpose: z.enum(LOOKUP_PURPOSES.map((p) => p.value) as [LookupPurpose, ...LookupPurpose[]], { error: "Choose a Lookup Purpose" }),
});

/** Settings tab; which identities make sense depends on the Lookup Purpose. */
export function signalSourceSettingsSchema(purpose: LookupPurpose) {
  return z
    .object({
      corePlatformId: choose("an Identity Provider Lookup"),
      identityType: z.enum(IDENTITY_TYPES.map((t) => t.value) as ["custom", "csr", "certificate"], { error: "Choose an Identity" }),
      identityAttribute: z.string({ error: "Choose the identity attribute" }).trim().min(1, "Choose the identity attribute").max(200, "At most 200 characters"),
      revokeOnFailure: checkbox.default(false),
    })
    .superRefine((v, ctx) => {
      const issue = (message: string, path = "identityAttribute") => ctx.addIssue({ code: "custom", path: [path], message });
      if (v.identityType === "certificate" && purpose !== "radius-authentication")
        return issue("Certificate attributes exist only at RADIUS Authentication: choose CSR or Custom", "identityType");
      if (v.identityType === "csr" && purpose !== "certificate-issuance")
        return issue("CSR attributes exist only at enrollment: choose Certificate or Custom", "identityType");
      if (v.identityType !== "custom") {
        if (!IDENTITY_ATTRIBUTES[v.identityType].some((a) => a.value === v.identityAttribute)) issue("Choose one of the listed attributes");
        return;
      }
      // Checked as every `${/path}` is (@attested/variables): segment characters, prototype keys, roots.
      const roots = IDENTITY_ROOTS[purpose];
      const parsed = parsePath(v.identityAttribute, { roots, minSegments: 2, maxSegments: 6 });
      if (parsed.ok) return;
      if (parsed.problem.kind === "syntax") return issue("Write a path such as /csr/subject/organizationalunit");
      if (parsed.problem.kind === "forbidden") return issue("This path is not allowed");
      issue(`For this Lookup Purpose the path starts with ${roots.map((r) => `/${r}`).join(", ")}`);
    });
}

export const signalSourceConditionsSchema = z.object({
  deviceRoleIds: z.array(z.string().uuid("Choose a Device Role")).max(50, "At most 50 Device Roles").default([]),
});

// ---------------------------------------------------------------- Policy Workflow

export const conditionSchema = z
  .object({
    kind: z.enum(["attribute", "group"], { error: "Choose an Attribute" }),
    attribute: z.string().trim().optional(),
    operator: z.enum(CONDITION_OPERATORS.map((o) => o.value) as [string, ...string[]], { error: "Choose a Condition" }),
    value: z.string().max(500, "Value is at most 500 characters").optional(),
  })
  .superRefine((c, ctx) => {
    if (c.kind === "attribute" && !(c.attribute && ATTRIBUTE_NAME.test(c.attribute)))
      ctx.addIssue({ code: "custom", path: ["attribute"], message: "Choose an Attribute" });
    if (VALUE_OPERATORS.has(c.operator)) {
      if (!c.value) ctx.addIssue({ code: "custom", path: ["value"], message: "Value is required for this condition" });
      else if (c.operator === "matches") {
        const p = patternProblem(c.value);
        if (p) ctx.addIssue({ code: "custom", path: ["value"], message: p });
      }
    }
  })
  .transform((c) => ({
    kind: c.kind,
    ...(c.kind === "attribute" ? { attribute: c.attribute! } : {}),
    operator: c.operator as (typeof CONDITION_OPERATORS)[number]["value"],
    ...(VALUE_OPERATORS.has(c.operator) ? { value: c.value! } : {}),
  }));
export type WorkflowCondition = z.output<typeof conditionSchema>;

export const workflowBasicSchema = z.object({ name: nameField, description: descriptionField("Display Description") });

export const workflowConditionsSchema = z.object({
  corePlatformId: choose("a Core Provider"),
  attributeConditions: z.array(conditionSchema).max(20, "At most 20 conditions").default([]),
});

// ---------------------------------------------------------------- Device Role

export const deviceRoleBasicSchema = z.object({ name: nameField, description: descriptionField() });

const VERSION_VALUE = /^\d{1,6}(\.\d{1,6}){0,3}$/;
const SOFTWARE_UPDATE_DEVICE_ID = /^[A-Za-z0-9,-]{1,40}$/;

/** One posture condition on what Apple attested (docs/protocol.md#attested-posture). */
export const postureConditionSchema = z
  .object({
    check: z.enum(POSTURE_CHECKS.map((c) => c.value) as [PostureCheck, ...PostureCheck[]], { error: "Choose a posture condition" }),
    value: z.string({ error: "Value is required" }).trim().max(500, "Value is at most 500 characters"),
  })
  .superRefine((c, ctx) => {
    const def = POSTURE_CHECKS.find((p) => p.value === c.check)!;
    const issue = (message: string) => ctx.addIssue({ code: "custom", path: ["value"], message });
    if (def.kind === "version") {
      if (!VERSION_VALUE.test(c.value)) issue("Write a version such as 14, 14.6 or 17.4.1");
    } else if (def.kind === "choice") {
      if (!def.choices.some((x) => x.value === c.value)) issue(`Choose ${def.choices.map((x) => x.label).join(", ")}`);
    } else {
      const items = c.value.split(",").map((s) => s.trim());
      if (!c.value || items.some((s) => !SOFTWARE_UPDATE_DEVICE_ID.test(s)) || items.length > 50)
        issue("Write Software Update Device IDs (such as J514sAP) separated by commas, at most 50");
    }
  });
export type PostureCondition = z.output<typeof postureConditionSchema>;

export const deviceRoleConditionsSchema = z.object({
  keyAttestationPlatformId: choose("a Key Attestation Platform as Identity"),
  postureConditions: z.array(postureConditionSchema).max(20, "At most 20 posture conditions").default([]),
});

// ---------------------------------------------------------------- Enrollment Policy

export const enrollmentBasicSchema = z.object({
  name: nameField,
  description: descriptionField(),
  priority: z.preprocess(
    (v) => (v === "" || v === undefined || v === null ? DEFAULT_PRIORITY : v),
    z.coerce
      .number({ error: "Priority is a whole number from 1 to 10000" })
      .int("Priority is a whole number from 1 to 10000")
      .min(1, "Priority is a whole number from 1 to 10000")
      .max(10_000, "Priority is a whole number from 1 to 10000"),
  ),
});
export const enrollmentConditionsSchema = z.object({ policyWorkflowId: choose("a Role"), deviceRoleId: choose("a Device Role") });
export const enrollmentSettingsSchema = z.object({ caId: choose("a Certificate Authority"), templateId: choose("a Certificate Template") });

// ---------------------------------------------------------------- Validate and RADIUS

export const validateIdentitySchema = z.object({
  identity: z.string({ error: "Enter a valid identity" }).trim().min(1, "Enter a valid identity").max(256, "The identity is at most 256 characters"),
});

export const radiusAuthorizeSchema = z.union(
  [
    z.object({ certificatePem: z.string().min(1).max(20_000, "certificatePem is too long") }).strict(),
    z.object({ serialNumber: z.string().trim().min(1).max(64), issuer: z.string().trim().min(1).max(1000) }).strict(),
  ],
  { error: "Send { certificatePem } or { serialNumber, issuer }" },
);
export type RadiusAuthorizeInput = z.input<typeof radiusAuthorizeSchema>;

// What a RADIUS server knows of a certificate it refused in the TLS handshake. Its reason is its own
// log text (which may quote the peer's certificate): kept as one line of printable text.
const oneLine = (max: number) =>
  z
    .string()
    .max(max * 4, `at most ${max * 4} characters`)
    .transform((v) =>
      v
        .replace(/[\u0000-\u001f\u007f]+/g, " ")
        .trim()
        .slice(0, max),
    );
export const radiusRefusalSchema = z
  .object({
    serialNumber: z.string().trim().min(1).max(64),
    issuer: z.string().trim().min(1).max(1000),
    subject: oneLine(1000).optional(),
    reason: oneLine(500).optional(),
  })
  .strict();
