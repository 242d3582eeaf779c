export { openDatabase, type Database, type Db } from "./client";
export { repoRoot, dataDir } from "./paths";
export { sqlOf, type Sql } from "./sql";
export * from "./generated/prisma/client";
