import type { AttributeMapping } from "./mapping";
import type { ValidationRule } from "./rules";
import { allowHttpFromEnv, type AuthMethod } from "./schema";

// Core Platform presets: the vendor's real API paths (docs/kandji.md, docs/jamf.md, docs/intune.md)
// filled in from the tenant's address, so the admin adds only that and the credentials. Every preset
// pins the answer to the device with an exact serial match, and maps email, device name and user
// (and, for Intune, the compliance state a Policy Workflow can test).

export const PRESET_IDS = ["kandji", "jamf-computers", "jamf-mobile", "intune"] as const;
export type PresetId = (typeof PRESET_IDS)[number];

/** What the admin types for a preset (besides the credentials, which are the Configuration tab's fields). */
export interface PresetInput {
  /** Kandji: https://<subdomain>.api.kandji.io; Jamf Pro: https://<instance>.jamfcloud.com. */
  tenantUrl?: string | null;
  /** Intune: the Directory (tenant) ID, a GUID or a domain such as contoso.onmicrosoft.com. */
  tenantId?: string | null;
  /** Intune: Microsoft Graph's endpoint (another one in national clouds). */
  graphUrl?: string | null;
  /** Intune: Microsoft Entra ID's endpoint (another one in national clouds). */
  loginUrl?: string | null;
}

export type PresetField = keyof PresetInput;

/**
 * How to read the whole fleet, for the inventory sweeps (issue 22 §3): kept apart from the lookup so
 * the fleet settings can be wired on their own. `itemsPath` is where a page's records are, `serialPath`
 * the serial number inside one record.
 */
export type PresetList =
  | { uri: string; paging: "offset"; limitParam: "limit"; offsetParam: "offset"; pageSize: number; itemsPath: string; serialPath: string }
  | { uri: string; paging: "page"; pageParam: "page"; pageSizeParam: "page-size"; pageSize: number; itemsPath: string; totalPath: string; serialPath: string }
  | { uri: string; paging: "nextLink"; nextLinkPath: string; itemsPath: string; serialPath: string };

/** The Core Platform's tab values a preset fills. */
export interface PresetConfig {
  authMethod: AuthMethod;
  oauthTokenUrl: string | null;
  oauthScope: string | null;
  uri: string;
  validationRules: ValidationRule[];
  attributeMappings: AttributeMapping[];
  groupsPath: string | null;
}

export interface PresetDefinition {
  id: PresetId;
  label: string;
  /** The fields the Add form asks for, with their labels and defaults. */
  fields: { name: PresetField; label: string; hint: string; default?: string }[];
  /** The Configuration tab's method, and what the admin's credential is called in the vendor's console. */
  authMethod: AuthMethod;
  credential: string;
  build(input: Required<PresetInput>): { config: PresetConfig; list: PresetList };
}

const JAMF_SECTIONS = "section=GENERAL&section=HARDWARE&section=USER_AND_LOCATION";

/**
 * Jamf Pro's computers and mobile devices: the same OAuth client, RSQL filter and paging; only the
 * inventory endpoint and two field names differ (docs/jamf.md).
 */
function jamfPreset(id: "jamf-computers" | "jamf-mobile", label: string, endpoint: string, fields: { email: string; deviceName: string }): PresetDefinition {
  return {
    id,
    label,
    fields: [{ name: "tenantUrl", label: "Jamf Pro URL", hint: "https://<instance>.jamfcloud.com" }],
    authMethod: "oauth2",
    credential: "API client (OAuth 2.0 Client Credentials)",
    build: ({ tenantUrl }) => {
      const device = "data.results[hardware.serialNumber=${identity}]";
      return {
        config: {
          authMethod: "oauth2",
          oauthTokenUrl: `${tenantUrl}/api/oauth/token`,
          oauthScope: null,
          // RSQL: filter=hardware.serialNumber=="<serial>", an exact match.
          uri: `${tenantUrl}/api/${endpoint}?${JAMF_SECTIONS}&page-size=1&filter=hardware.serialNumber%3D%3D%22\${identity}%22`,
          validationRules: [{ path: `${device}.hardware.serialNumber`, condition: "equals", expected: "${identity}" }],
          attributeMappings: [
            { path: `${device}.userAndLocation.${fields.email}`, attribute: "email" },
            { path: `${device}.general.${fields.deviceName}`, attribute: "deviceName" },
            { path: `${device}.userAndLocation.username`, attribute: "user" },
          ],
          groupsPath: null,
        },
        list: {
          uri: `${tenantUrl}/api/${endpoint}?section=HARDWARE`,
          paging: "page",
          pageParam: "page",
          pageSizeParam: "page-size",
          pageSize: 2000,
          itemsPath: "data.results",
          totalPath: "data.totalCount",
          serialPath: "hardware.serialNumber",
        },
      };
    },
  };
}

export const PRESETS: Record<PresetId, PresetDefinition> = {
  kandji: {
    id: "kandji",
    label: "Kandji",
    fields: [{ name: "tenantUrl", label: "Tenant API URL", hint: "https://<subdomain>.api.kandji.io (Settings > Access > API URL)" }],
    authMethod: "bearer",
    credential: "API token (Bearer Token)",
    build: ({ tenantUrl }) => {
      // serial_number is a partial match: every path picks the record whose serial is exactly the identity.
      const device = "data[serial_number=${identity}]";
      return {
        config: {
          authMethod: "bearer",
          oauthTokenUrl: null,
          oauthScope: null,
          uri: `${tenantUrl}/api/v1/devices?serial_number=\${identity}`,
          validationRules: [{ path: `${device}.serial_number`, condition: "equals", expected: "${identity}" }],
          attributeMappings: [
            { path: `${device}.user.email`, attribute: "email" },
            { path: `${device}.device_name`, attribute: "deviceName" },
            { path: `${device}.user.name`, attribute: "user" },
          ],
          groupsPath: `${device}.blueprint_name, ${device}.tags`,
        },
        list: {
          uri: `${tenantUrl}/api/v1/devices`,
          paging: "offset",
          limitParam: "limit",
          offsetParam: "offset",
          pageSize: 300,
          itemsPath: "data",
          serialPath: "serial_number",
        },
      };
    },
  },
  "jamf-computers": jamfPreset("jamf-computers", "Jamf Pro (computers)", "v1/computers-inventory", { email: "email", deviceName: "name" }),
  "jamf-mobile": jamfPreset("jamf-mobile", "Jamf Pro (mobile devices)", "v2/mobile-devices/detail", { email: "emailAddress", deviceName: "displayName" }),
  intune: {
    id: "intune",
    label: "Microsoft Intune",
    fields: [
      { name: "tenantId", label: "Directory (tenant) ID", hint: "Entra ID > App registrations > your app > Overview" },
      { name: "graphUrl", label: "Microsoft Graph URL", hint: "Another one only in national clouds", default: "https://graph.microsoft.com" },
      { name: "loginUrl", label: "Microsoft Entra ID URL", hint: "Another one only in national clouds", default: "https://login.microsoftonline.com" },
    ],
    authMethod: "oauth2",
    credential: "App registration (OAuth 2.0 Client Credentials)",
    build: ({ tenantId, graphUrl, loginUrl }) => {
      const device = "data.value[serialNumber=${identity}]";
      return {
        config: {
          authMethod: "oauth2",
          oauthTokenUrl: `${loginUrl}/${tenantId}/oauth2/v2.0/token`,
          // Client credentials ask for the resource's .default scope: the app's granted permissions.
          oauthScope: `${graphUrl}/.default`,
          uri: `${graphUrl}/v1.0/deviceManagement/managedDevices?$filter=serialNumber%20eq%20'\${identity}'`,
          validationRules: [{ path: `${device}.serialNumber`, condition: "equals", expected: "${identity}" }],
          attributeMappings: [
            { path: `${device}.emailAddress`, attribute: "email" },
            { path: `${device}.deviceName`, attribute: "deviceName" },
            { path: `${device}.userPrincipalName`, attribute: "user" },
            { path: `${device}.complianceState`, attribute: "complianceState" },
          ],
          groupsPath: null,
        },
        list: {
          uri: `${graphUrl}/v1.0/deviceManagement/managedDevices?$select=id,serialNumber,complianceState&$top=1000`,
          paging: "nextLink",
          nextLinkPath: "data['@odata.nextLink']",
          itemsPath: "data.value",
          serialPath: "serialNumber",
        },
      };
    },
  },
};

export const isPresetId = (v: unknown): v is PresetId => typeof v === "string" && (PRESET_IDS as readonly string[]).includes(v);

function baseUrlProblem(label: string, v: string, allowHttp: boolean): string | null {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    return `${label} must be a full https URL`;
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowHttp)) return `${label} must start with https://`;
  if (url.username || url.password || url.search || url.hash) return `${label} must hold no user name, password, query or fragment`;
  if (url.pathname !== "/" && url.pathname !== "") return `${label} is only the scheme and host, e.g. https://example.com`;
  return null;
}

/**
 * The tab values (and fleet list settings) of a preset, or the problems by field. URLs are checked as
 * base addresses (scheme and host only) and lose a trailing slash.
 */
export function applyPreset(
  id: PresetId,
  input: PresetInput,
  opts: { allowHttp?: boolean } = {},
): { ok: true; config: PresetConfig; list: PresetList } | { ok: false; errors: Partial<Record<PresetField, string>> } {
  const def = PRESETS[id];
  const allowHttp = opts.allowHttp ?? allowHttpFromEnv();
  const errors: Partial<Record<PresetField, string>> = {};
  const values: Required<PresetInput> = { tenantUrl: "", tenantId: "", graphUrl: "", loginUrl: "" };
  for (const f of def.fields) {
    const v = (input[f.name] ?? "").trim() || f.default || "";
    if (!v) {
      errors[f.name] = `${f.label} is required`;
      continue;
    }
    if (f.name === "tenantId") {
      if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,99}$/.test(v)) errors[f.name] = `${f.label} is a GUID or a domain such as contoso.onmicrosoft.com`;
    } else {
      const p = baseUrlProblem(f.label, v, allowHttp);
      if (p) errors[f.name] = p;
    }
    values[f.name] = v.replace(/\/+$/, "");
  }
  if (Object.keys(errors).length) return { ok: false, errors };
  return { ok: true, ...def.build(values) };
}
