import { z } from "zod";

export const isUuid = (id: unknown): id is string => typeof id === "string" && /^[0-9a-f-]{36}$/.test(id);

/** Input fields as a plain object (REST bodies and form objects alike). */
export function asRecord(input: unknown): Record<string, unknown> {
  return input !== null && typeof input === "object" && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
}

export const hasAny = (input: Record<string, unknown>, keys: readonly string[]) => keys.some((k) => input[k] !== undefined);

/**
 * Parses several tabs' schemas and reports every tab's errors at once (keys stay unique because each
 * field belongs to one tab), so a REST PATCH touching two tabs shows both problems.
 */
export class IssueCollector {
  private issues: z.core.$ZodIssue[] = [];
  parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> | undefined {
    const r = schema.safeParse(value);
    if (r.success) return r.data;
    this.issues.push(...r.error.issues);
    return undefined;
  }
  /** An issue found across tabs (e.g. a stored credential and a new URI). */
  add(path: string, message: string): void {
    this.issues.push({ code: "custom", path: [path], message, input: undefined });
  }
  throwIfAny(): void {
    if (this.issues.length) throw new z.ZodError(this.issues);
  }
}

/** Text of a "where is it used" list for the delete refusal. */
export function usedByMessage(what: string, usage: string[]): string {
  return `${what} is used by ${usage.join(", ")}: change those first.`;
}

// Query values that look like credentials are not written to the trail.
const SECRET_PARAM = /(token|secret|key|password|passwd|signature|sig|auth)/i;
export function redactUri(uri: string): string {
  return uri.replace(/([?&])([^=&#]+)=([^&#]*)/g, (m, sep: string, k: string) => (SECRET_PARAM.test(safeDecode(k)) ? `${sep}${k}=REDACTED` : m));
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// The guide's field names, for "updated: ..." summaries on General Events.
const FIELD_LABELS: Record<string, string> = {
  name: "Name",
  description: "Description",
  authMethod: "Authentication Method",
  credentialStored: "credential",
  basicUsername: "User name",
  apiKeyHeader: "Header name",
  uri: "URI",
  validationRules: "Response Validation",
  timeoutMs: "Timeout",
  attributeMappings: "Attribute Mapping",
  groupsPath: "Groups",
  lookupPurpose: "Lookup Purpose",
  identityProviderLookup: "Identity Provider Lookup",
  identity: "Identity",
  revokeOnFailure: "Revoke On Failure",
  deviceRoleIds: "Device Role conditions",
  coreProvider: "Core Provider",
  attributesGroups: "Attributes/Groups",
  priority: "Priority",
  role: "Role",
  deviceRole: "Device Role",
  certificateAuthority: "Use Certificate Authority",
  certificateTemplate: "Use Certificate Template",
};

/** " updated: URI, Response Validation" or " updated (no change)". */
export const changedText = (changed: string[], extra: string[] = []) => {
  const all = [...changed.map((k) => FIELD_LABELS[k] ?? k), ...extra];
  return all.length ? `: ${all.join(", ")}` : " (no change)";
};
