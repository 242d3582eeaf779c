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

export function assertNoEmbeddedServer(): void {
  if (!existsSync(lockFile())) return;
  const pid = Number(readFileSync(lockFile(), "utf8"));
  if (pid && pid !== process.pid && alive(pid)) {
    // One plain line for the operator (this runs before, or instead of, the server's logger).
    process.stderr.write(`The portal (pid ${pid}) is using the embedded database in ${dataDir()}. Stop it first.\n`);
    process.exit(1);
  }
}
