import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, realpathSync } from "node:fs";
import path from "node:path";

// The server's configured folders (ATTESTED_ROOT, DATA_DIR), set once at start by its services.ts; tests
// and scripts get the defaults.
let configured: { root?: string; dataDir?: string } = {};

export function setPaths(paths: { root?: string; dataDir?: string }): void {
  configured = { ...paths };
}

/** The installation root: as configured, else the nearest folder upward holding pnpm-workspace.yaml. */
export function repoRoot(start = process.cwd()): string {
  if (configured.root) return configured.root;
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
  return configured.dataDir ?? path.join(repoRoot(), "data");
}

/** Creates a folder under (or at) the data folder readable by this user only. */
export function ensurePrivateDir(dir = dataDir()): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * The data folder holds the master key and the embedded database: everything in it is made owner-only
 * (group and other bits removed, so folders 0700 and files 0600), fixing what an older version or a
 * copy left readable, and this process creates its files owner-only from here on. The owner's own bits
 * are kept, so a DATA_DIR pointed at a folder holding other files breaks none of them.
 */
export function secureDataDir(dir = dataDir()): void {
  process.umask(0o077);
  const fix = (p: string) => {
    const st = lstatSync(p);
    if (st.isSymbolicLink()) return;
    if (st.mode & 0o077) chmodSync(p, st.mode & 0o700);
    if (st.isDirectory()) for (const name of readdirSync(p)) fix(path.join(p, name));
  };
  // DATA_DIR itself may be a symlink (e.g. to a volume): secure the folder it names; symlinks inside are skipped.
  if (existsSync(/*turbopackIgnore: true*/ dir)) fix(realpathSync(/*turbopackIgnore: true*/ dir));
}

export const migrationsDir = () => path.join(repoRoot(), "prisma", "migrations");
export const schemaPath = () => path.join(repoRoot(), "prisma", "schema.prisma");
