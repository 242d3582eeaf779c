export {
  cachedConfig,
  databaseOf,
  DEFAULT_POOL_SIZE,
  defaultSqlPoolSize,
  forgetCachedConfig,
  invalidate,
  openDatabase,
  sqlOf,
  type Database,
  type DatabaseOptions,
  type Db,
} from "./client";
export { repoRoot, dataDir, ensurePrivateDir, secureDataDir, setPaths } from "./paths";
export type { Sql } from "./sql";
export { likeLiteral, storableText } from "./text";
export { isDatabaseUnavailable } from "./unavailable";
export { ConfigCache, CONFIG_CACHE_MS } from "./config-cache";
export { InvalidationBus, isInvalidation, type Invalidation } from "./invalidation";
export * from "./generated/prisma/client";
