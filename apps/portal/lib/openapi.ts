import { z } from "zod";
import { eventsQuerySchema } from "@attested/events";
import { createUserSchema, updateUserSchema } from "@attested/identity";
import { caInputSchema, caSettingsSchema, certificatesQuerySchema, revokeInputSchema } from "@attested/ca";
import { templateInputSchema } from "@attested/pki";
import {
  dmpInputSchema,
  dmpSettingsSchema,
  kapInputSchema,
  kapTestRootsSchema,
  networkPayloadsSchema,
  publishInputSchema,
  rotateSecretSchema,
} from "@attested/platforms";
import {
  corePlatformCreateBody,
  corePlatformUpdateBody,
  corePlatformValidateBody,
  deviceRoleCreateBody,
  deviceRoleUpdateBody,
  enrollmentCreateBody,
  enrollmentUpdateBody,
  radiusAuthorizeBody,
  radiusRefusalBody,
  signalSourceCreateBody,
  signalSourceUpdateBody,
  signalSourceValidateBody,
  workflowCreateBody,
  workflowUpdateBody,
} from "@attested/policy";

// The OpenAPI document is generated from the same zod schemas the handlers validate with.
type Op = { summary: string; write?: boolean; body?: z.ZodType; query?: z.ZodObject; pathParams?: string[] };
export const apiOperations: Record<string, Partial<Record<"get" | "post" | "put" | "patch" | "delete", Op>>> = {
  "/users": {
    get: { summary: "List users" },
    post: { summary: "Create a user", write: true, body: createUserSchema },
  },
  "/users/{id}": {
    get: { summary: "Get a user", pathParams: ["id"] },
    patch: { summary: "Change a user's role, name or disabled state", write: true, body: updateUserSchema, pathParams: ["id"] },
  },
  "/events": { get: { summary: "List events, newest first (keyset pagination with cursor)", query: eventsQuerySchema } },
  "/events/{id}": { get: { summary: "Get an event", pathParams: ["id"] } },
  "/certificate-authorities": {
    get: { summary: "List certificate authorities with issued and revoked counts" },
    post: {
      summary: "Add Certificate Authority (root or intermediate; the key is generated inside, or in the HSM with generatedVia pkcs11)",
      write: true,
      body: caInputSchema,
    },
  },
  "/certificate-authorities/{id}": {
    get: { summary: "Get a certificate authority", pathParams: ["id"] },
    patch: { summary: "Change Notifications and Revocation settings", write: true, body: caSettingsSchema, pathParams: ["id"] },
  },
  "/certificate-templates": {
    get: { summary: "List certificate templates" },
    post: { summary: "Add Certificate Template", write: true, body: templateInputSchema },
  },
  "/certificate-templates/{id}": {
    get: { summary: "Get a certificate template", pathParams: ["id"] },
    put: { summary: "Replace a certificate template", write: true, body: templateInputSchema, pathParams: ["id"] },
    delete: { summary: "Delete a certificate template that nothing uses", write: true, pathParams: ["id"] },
  },
  "/certificates": {
    get: { summary: "Search issued certificates (serial, subject, SAN, device serial; CA, status, expiring)", query: certificatesQuerySchema },
  },
  "/certificates/{id}": { get: { summary: "Get a certificate with its PEM", pathParams: ["id"] } },
  "/certificates/{id}/revoke": { post: { summary: "Revoke (or put on hold) a certificate", write: true, body: revokeInputSchema, pathParams: ["id"] } },
  "/device-management-platforms": {
    get: { summary: "List Device Management Platforms" },
    post: { summary: "Add a Device Management Platform (ACME enrollment endpoint)", write: true, body: dmpInputSchema },
  },
  "/device-management-platforms/{id}": {
    get: { summary: "Get a Device Management Platform", pathParams: ["id"] },
    patch: { summary: "Change name, defaults and server-name issuance", write: true, body: dmpSettingsSchema, pathParams: ["id"] },
  },
  "/device-management-platforms/{id}/profile": {
    get: { summary: "Download the .mobileconfig (Admin tokens only: it carries the enrollment secret)", write: true, pathParams: ["id"] },
  },
  "/device-management-platforms/{id}/network-payloads": {
    get: { summary: "The profile's Wi-Fi, Ethernet 802.1X and IKEv2 VPN payloads", pathParams: ["id"] },
    put: {
      summary: "Set the profile's Wi-Fi, Ethernet 802.1X and IKEv2 VPN payloads (each uses the ACME certificate)",
      write: true,
      body: networkPayloadsSchema,
      pathParams: ["id"],
    },
  },
  "/device-management-platforms/{id}/rotate-secret": {
    post: {
      summary:
        "Rotate the enrollment secret (profiles made before stop working); a platform published to Kandji is published again, its previous secret enrolling until then plus the grace period unless revokePrevious (optional body)",
      write: true,
      body: rotateSecretSchema,
      pathParams: ["id"],
    },
  },
  "/device-management-platforms/{id}/publish": {
    post: {
      summary: "Publish to Kandji: create or update the Library custom profile and assign it to Blueprints (502 when Kandji refuses)",
      write: true,
      body: publishInputSchema,
      pathParams: ["id"],
    },
  },
  "/key-attestation-platforms": {
    get: { summary: "List Key Attestation Platforms" },
    post: { summary: "Add a Key Attestation Platform (Apple)", write: true, body: kapInputSchema },
  },
  "/key-attestation-platforms/{id}": {
    get: { summary: "Get a Key Attestation Platform", pathParams: ["id"] },
    patch: {
      summary: "Set the extra roots trusted FOR TESTING ONLY (recorded as an event; refused unless the server runs with ATTESTATION_TEST_ROOTS=1)",
      write: true,
      body: kapTestRootsSchema,
      pathParams: ["id"],
    },
  },
  "/core-platforms": {
    get: { summary: "List Core Platforms (Generic HTTP signal sources); secrets are never returned, only hasSecret" },
    post: { summary: "Add a Core Platform (Basic, optionally with its tabs)", write: true, body: corePlatformCreateBody },
  },
  "/core-platforms/{id}": {
    get: { summary: "Get a Core Platform and where it is used", pathParams: ["id"] },
    patch: { summary: "Update Basic, Configuration, API, Attribute Mapping and Groups fields", write: true, body: corePlatformUpdateBody, pathParams: ["id"] },
    delete: { summary: "Delete a Core Platform that nothing uses (409 says where it is used)", write: true, pathParams: ["id"] },
  },
  "/core-platforms/{id}/validate": {
    post: {
      summary:
        "Validate: one real lookup with unsaved fields tried, nothing saved (a URI with another origin needs the credential in the body); recorded as an event",
      write: true,
      body: corePlatformValidateBody,
      pathParams: ["id"],
    },
  },
  "/security-signal-sources": {
    get: { summary: "List Security Signal Sources" },
    post: { summary: "Add a Security Signal Source", write: true, body: signalSourceCreateBody },
  },
  "/security-signal-sources/{id}": {
    get: { summary: "Get a Security Signal Source", pathParams: ["id"] },
    patch: { summary: "Update Basic, Conditions and Settings (the Lookup Purpose is fixed)", write: true, body: signalSourceUpdateBody, pathParams: ["id"] },
    delete: { summary: "Delete a Security Signal Source", write: true, pathParams: ["id"] },
  },
  "/security-signal-sources/{id}/validate": {
    post: { summary: "Validate Configuration with an identity (recorded as an event)", write: true, body: signalSourceValidateBody, pathParams: ["id"] },
  },
  "/policy-workflows": {
    get: { summary: "List Policy Workflows" },
    post: { summary: "Add a Policy Workflow", write: true, body: workflowCreateBody },
  },
  "/policy-workflows/{id}": {
    get: { summary: "Get a Policy Workflow and where it is used", pathParams: ["id"] },
    patch: { summary: "Update Basic and Conditions (Core Provider, Attributes/Groups)", write: true, body: workflowUpdateBody, pathParams: ["id"] },
    delete: { summary: "Delete a Policy Workflow that no Enrollment Policy uses", write: true, pathParams: ["id"] },
  },
  "/device-roles": {
    get: { summary: "List Device Roles" },
    post: { summary: "Add a Device Role", write: true, body: deviceRoleCreateBody },
  },
  "/device-roles/{id}": {
    get: { summary: "Get a Device Role and where it is used", pathParams: ["id"] },
    patch: { summary: "Update Basic and Conditions (Identity = a Key Attestation Platform)", write: true, body: deviceRoleUpdateBody, pathParams: ["id"] },
    delete: { summary: "Delete a Device Role that nothing uses", write: true, pathParams: ["id"] },
  },
  "/enrollment-policies": {
    get: { summary: "List Enrollment Policies in the order they are tried (priority, then name)" },
    post: { summary: "Add an Enrollment Policy", write: true, body: enrollmentCreateBody },
  },
  "/enrollment-policies/{id}": {
    get: { summary: "Get an Enrollment Policy", pathParams: ["id"] },
    patch: {
      summary: "Update Basic (with priority), Conditions (Role, Device Role) and Settings (CA, template)",
      write: true,
      body: enrollmentUpdateBody,
      pathParams: ["id"],
    },
    delete: { summary: "Delete an Enrollment Policy", write: true, pathParams: ["id"] },
  },
  "/radius/authorize": {
    post: {
      summary: "RADIUS Authentication: accept or reject a client certificate (status, then a fresh device lookup; Revoke On Failure). Admin tokens only",
      write: true,
      body: radiusAuthorizeBody,
    },
  },
  "/radius/refusals": {
    post: {
      summary:
        "Record a client certificate the RADIUS server refused in the TLS handshake (revoked by OCSP, unknown CA, expired) as a RADIUS Authentication event. Admin tokens only",
      write: true,
      body: radiusRefusalBody,
    },
  },
};

const errorSchema = {
  type: "object",
  required: ["error"],
  properties: { error: { type: "string" }, field: { type: "string" } },
};

export function registerOperations(path: string, ops: (typeof apiOperations)[string]) {
  apiOperations[path] = { ...apiOperations[path], ...ops };
}

export function openApiDocument(serverUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(apiOperations)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(ops)) {
      if (!op) continue;
      const parameters: unknown[] = (op.pathParams ?? []).map((name) => ({ name, in: "path", required: true, schema: { type: "string" } }));
      if (op.query) {
        const js = z.toJSONSchema(op.query, { io: "input", unrepresentable: "any" }) as { properties?: Record<string, unknown> };
        for (const [name, schema] of Object.entries(js.properties ?? {})) parameters.push({ name, in: "query", required: false, schema });
      }
      const responses: Record<string, unknown> = {
        "200": { description: "OK", content: { "application/json": { schema: { type: "object" } } } },
        "400": { description: "Invalid input", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        "401": { description: "Missing or invalid token", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        "503": {
          description: "The database is unavailable for a moment (restarting or unreachable): retry after Retry-After seconds",
          headers: { "Retry-After": { schema: { type: "integer" } } },
          content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
        },
      };
      if (op.write)
        responses["403"] = { description: "The token's scope is Auditor", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
      if (op.pathParams) responses["404"] = { description: "Not found", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } };
      const body = op.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: stripMeta(z.toJSONSchema(op.body, { io: "input", unrepresentable: "any" })) } },
            },
          }
        : {};
      paths[path][method] = { summary: op.summary, parameters, ...body, responses };
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Attested PKI REST API",
      version: "1.0.0",
      description: "Every object of the portal. Authenticate with a bearer API token (Settings > API Tokens).",
    },
    servers: [{ url: `${serverUrl}/api/v1` }],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer" } },
      schemas: { Error: errorSchema },
    },
    paths,
  };
}

function stripMeta(schema: Record<string, unknown>) {
  const { $schema: _, ...rest } = schema;
  return rest;
}
