import { openSecret, sealSecret } from "@attested/secrets";
import type { ListConfig } from "./inventory";
import type { LookupConfig } from "./lookup";
import type { AttributeMapping } from "./mapping";
import type { ValidationRule } from "./rules";
import type { AuthMethod, ListPaging } from "./schema";

// A Core Platform's bearer token / password / API key / OAuth client secret is stored sealed (CorePlatform.secret) and
// bound to its platform: a blob copied onto another platform's row does not open.

export const corePlatformSecretContext = (platformId: string) => `core-platform:${platformId}`;

export function sealCorePlatformSecret(plaintext: string, platformId: string, key?: Buffer): Uint8Array<ArrayBuffer> {
  return sealSecret(plaintext, corePlatformSecretContext(platformId), key);
}

export function openCorePlatformSecret(blob: Uint8Array, platformId: string, key?: Buffer): string {
  return openSecret(blob, corePlatformSecretContext(platformId), key);
}

/** The CorePlatform columns a lookup needs (a Prisma row fits). */
export interface CorePlatformRecord {
  id: string;
  authMethod: string;
  secret: Uint8Array | null;
  basicUsername: string | null;
  apiKeyHeader: string | null;
  oauthTokenUrl?: string | null;
  oauthClientId?: string | null;
  oauthScope?: string | null;
  uri: string;
  validationRules: unknown;
  attributeMappings: unknown;
  groupsPath: string | null;
  timeoutMs: number;
}

/**
 * Builds the lookup configuration from a stored row, opening the secret. Throws MasterKeyError when
 * the secret cannot be opened (a local fault, unlike remote trouble). JSON columns are passed on as
 * they are: lookupDevice validates them and answers "invalid configuration" when they are wrong.
 */
export function lookupConfigFromRecord(rec: CorePlatformRecord, key?: Buffer): LookupConfig {
  return {
    uri: rec.uri,
    authMethod: rec.authMethod as AuthMethod,
    secret: rec.secret && rec.secret.length > 0 ? openCorePlatformSecret(rec.secret, rec.id, key) : null,
    basicUsername: rec.basicUsername,
    apiKeyHeader: rec.apiKeyHeader,
    oauthTokenUrl: rec.oauthTokenUrl ?? null,
    oauthClientId: rec.oauthClientId ?? null,
    oauthScope: rec.oauthScope ?? null,
    tokenOwner: rec.id,
    validationRules: rec.validationRules as ValidationRule[],
    attributeMappings: rec.attributeMappings as AttributeMapping[],
    groupsPath: rec.groupsPath,
    timeoutMs: rec.timeoutMs,
  };
}

/** The fleet inventory of a stored row (null when no List URI is set); paths are checked when it runs. */
export function listConfigFromRecord(rec: {
  listUri: string | null;
  listPaging: string | null;
  listItemsPath: string | null;
  listSerialPath: string | null;
  listPageSize: number;
}): ListConfig | null {
  if (!rec.listUri || !rec.listPaging || !rec.listItemsPath || !rec.listSerialPath) return null;
  return {
    uri: rec.listUri,
    paging: rec.listPaging as ListPaging,
    itemsPath: rec.listItemsPath,
    serialPath: rec.listSerialPath,
    pageSize: rec.listPageSize,
  };
}
