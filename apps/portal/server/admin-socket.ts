// The embedded database can be opened by one process only, so a backup while the portal runs is made by
// the portal: it listens on a Unix socket in the data folder (owner-only, like the master key next to
// it: whoever can connect could read the database files anyway), and the admin CLI asks it there.
import { chmodSync, rmSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import type { Database } from "@attested/db";

export const adminSocketPath = (dataDir: string) => path.join(dataDir, "admin.sock");

/** Serves GET /backup on the data folder's admin socket; returns a function that closes it. */
export async function serveAdminSocket(db: Database, dataDir: string, onError: (err: unknown) => void): Promise<() => void> {
  const socket = adminSocketPath(dataDir);
  rmSync(socket, { force: true }); // left by a process that did not exit cleanly (the pid lock says none runs)
  const server = http.createServer(async (req, res) => {
    try {
      if (req.method !== "GET" || req.url !== "/backup" || !db.dump) return void res.writeHead(404).end();
      const archive = await db.dump();
      res.writeHead(200, { "content-type": "application/gzip", "content-length": String(archive.length) }).end(archive);
    } catch (err) {
      onError(err);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(socket, () => resolve());
  });
  chmodSync(socket, 0o600);
  const close = () => {
    server.close();
    rmSync(socket, { force: true });
  };
  process.on("exit", close);
  return close;
}

/** A backup made by the running portal, through its admin socket. */
export function backupFromRunningPortal(dataDir: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: adminSocketPath(dataDir), path: "/backup" }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        res.statusCode === 200
          ? resolve(new Uint8Array(Buffer.concat(chunks)))
          : reject(new Error(`the running portal could not make the backup (HTTP ${res.statusCode}; see its log)`)),
      );
      res.on("error", reject);
    });
    req.on("error", (err) => reject(new Error(`cannot reach the running portal's admin socket (${(err as NodeJS.ErrnoException).code ?? err.message})`)));
  });
}
