export { openDatabase, type Database, type Db } from "./client";
export { repoRoot, dataDir, ensurePrivateDir, secureDataDir } from "./paths";
export { sqlOf, type Sql } from "./sql";
export { likeLiteral, storableText } from "./text";
export { isDatabaseUnavailable } from "./unavailable";
export { cachedConfig, dropCachedConfig, forgetCachedConfig, CONFIG_CACHE_MS } from "./config-cache";
export * from "./generated/prisma/client";
