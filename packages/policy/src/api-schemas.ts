import { z } from "zod";
import { AUTH_METHODS, attributeMappingTabSchema, createApiTabSchema, LIST_PAGINGS, MAX_LIST_PAGE_SIZE } from "@attested/integrations";
import { IDENTITY_TYPES } from "./options";
import {
  conditionSchema,
  corePlatformBasicSchema,
  deviceRoleBasicSchema,
  enrollmentBasicSchema,
  postureConditionSchema,
  radiusAuthorizeSchema,
  radiusRefusalSchema,
  signalSourceBasicSchema,
  workflowBasicSchema,
} from "./schemas";

// REST bodies for the OpenAPI document: every field of every tab, all optional on PATCH. The
// services validate each tab with the form schemas (schemas.ts and @attested/integrations).

const optional = <T extends z.ZodRawShape>(shape: T) => z.object(shape).partial();

const corePlatformTabs = {
  authMethod: z.enum(AUTH_METHODS),
  secret: z
    .string()
    .describe(
      "Bearer token, password, API key or OAuth client secret. Write-only: sealed at rest, never returned (responses carry hasSecret). Empty keeps the stored one.",
    ),
  basicUsername: z.string(),
  apiKeyHeader: z.string(),
  oauthTokenUrl: z.string().describe("OAuth 2.0 client credentials: the token endpoint, e.g. https://<instance>.jamfcloud.com/api/oauth/token"),
  oauthClientId: z.string(),
  oauthScope: z.string().describe("Space-separated; Microsoft Graph needs https://graph.microsoft.com/.default"),
  ...createApiTabSchema({ allowHttp: true }).shape,
  ...attributeMappingTabSchema.shape,
  listUri: z.string().describe("Fleet inventory: lists every device (same host as uri, no paging parameters); empty = per-device lookups"),
  listPaging: z.enum(LIST_PAGINGS).describe("offset-limit (Kandji), page-size (Jamf Pro), next-link (Microsoft Graph)"),
  listItemsPath: z.string().describe("Where a page's devices are, e.g. data, data.results, data.value"),
  listSerialPath: z.string().describe("A device's serial number, the device as data, e.g. data.serial_number"),
  listPageSize: z.number().int().min(1).max(MAX_LIST_PAGE_SIZE),
};
export const corePlatformCreateBody = corePlatformBasicSchema.extend(optional(corePlatformTabs).shape);
export const corePlatformUpdateBody = optional({ ...corePlatformBasicSchema.omit({ type: true }).shape, ...corePlatformTabs });
export const corePlatformValidateBody = corePlatformUpdateBody.omit({ name: true, description: true }).extend({
  identity: z.string().optional().describe("The lookup key; when absent, the literal Expected result of a rule"),
});

const signalSourceTabs = {
  corePlatformId: z.string().uuid().describe("Identity Provider Lookup"),
  identityType: z.enum(IDENTITY_TYPES.map((t) => t.value) as ["custom", "csr", "certificate"]),
  identityAttribute: z.string().describe("Path of the lookup key, e.g. /attestation/serialNumber or /certificate/deviceSerial"),
  revokeOnFailure: z.boolean(),
  deviceRoleIds: z.array(z.string().uuid()).describe("Conditions: Device Roles served (empty = ANY)"),
};
export const signalSourceCreateBody = signalSourceBasicSchema.extend(optional(signalSourceTabs).shape);
export const signalSourceUpdateBody = optional({ ...signalSourceBasicSchema.omit({ lookupPurpose: true }).shape, ...signalSourceTabs });
export const signalSourceValidateBody = z.object({
  identity: z.string(),
  corePlatformId: z.string().uuid().optional(),
  identityType: signalSourceTabs.identityType.optional(),
  identityAttribute: z.string().optional(),
});

const workflowTabs = { corePlatformId: z.string().uuid().describe("Core Provider"), attributeConditions: z.array(conditionSchema).describe("Empty = ANY") };
export const workflowCreateBody = workflowBasicSchema.extend(optional(workflowTabs).shape);
export const workflowUpdateBody = optional({ ...workflowBasicSchema.shape, ...workflowTabs });

const deviceRoleTabs = {
  keyAttestationPlatformId: z.string().uuid().describe("Identity"),
  postureConditions: z.array(postureConditionSchema).describe("Conditions on what Apple attested (all must hold); empty = none"),
};
export const deviceRoleCreateBody = deviceRoleBasicSchema.extend(optional(deviceRoleTabs).shape);
export const deviceRoleUpdateBody = optional({ ...deviceRoleBasicSchema.shape, ...deviceRoleTabs });

const enrollmentTabs = {
  policyWorkflowId: z.string().uuid().describe("Role"),
  deviceRoleId: z.string().uuid(),
  caId: z.string().uuid().describe("Use Certificate Authority"),
  templateId: z.string().uuid().describe("Use Certificate Template"),
};
export const enrollmentCreateBody = enrollmentBasicSchema.extend(optional(enrollmentTabs).shape);
export const enrollmentUpdateBody = optional({ ...enrollmentBasicSchema.shape, ...enrollmentTabs });

export { radiusAuthorizeSchema as radiusAuthorizeBody, radiusRefusalSchema as radiusRefusalBody };
