import { existsSync } from "node:fs";
import path from "node:path";

/** The repository root: the nearest folder upward holding pnpm-workspace.yaml. */
export function repoRoot(start = process.cwd()): string {
  if (process.env.ATTESTED_ROOT) return process.env.ATTESTED_ROOT;
  let dir = path.resolve(/*turbopackIgnore: true*/ start);
  for (;;) {
    if (existsSync(path.join(dir, "pnpm-workspace.yaml"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return path.resolve(/*turbopackIgnore: true*/ start);
    dir = up;
  }
}

/** Where embedded-mode state lives (PGlite files, the master key file). */
export function dataDir(): string {
  return process.env.DATA_DIR ? path.resolve(process.env.DATA_DIR) : path.join(repoRoot(), "data");
}

export const migrationsDir = () => path.join(repoRoot(), "prisma", "migrations");
export const schemaPath = () => path.join(repoRoot(), "prisma", "schema.prisma");
