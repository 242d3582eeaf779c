export { openDatabase, type Database, type Db } from "./client";
export { repoRoot, dataDir } from "./paths";
export * from "./generated/prisma/client";
