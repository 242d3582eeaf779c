import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { dataDir, ensurePrivateDir } from "@attested/db";

// Embedded PGlite may be opened by one process at a time: the server holds a pid file, and the
// admin CLI refuses to open the same data folder while that process lives.
const lockFile = () => path.join(dataDir(), "server.pid");

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export function holdEmbeddedLock(): void {
  assertNoEmbeddedServer();
  ensurePrivateDir();
  writeFileSync(lockFile(), String(process.pid), { mode: 0o600 });
  process.on("exit", () => rmSync(lockFile(), { force: true }));
}

/** The pid of the portal serving the embedded database of this data folder, or null when none runs. */
export function runningEmbeddedServer(): number | null {
  if (!existsSync(lockFile())) return null;
  const pid = Number(readFileSync(lockFile(), "utf8"));
  return pid && pid !== process.pid && alive(pid) ? pid : null;
}

export function assertNoEmbeddedServer(): void {
  const pid = runningEmbeddedServer();
  if (pid) {
    // One plain line for the operator (this runs before, or instead of, the server's logger).
    process.stderr.write(`The portal (pid ${pid}) is using the embedded database in ${dataDir()}. Stop it first.\n`);
    process.exit(1);
  }
}
