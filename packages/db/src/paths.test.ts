import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { secureDataDir, setPaths } from "./paths";

const saved = { umask: process.umask() };
afterEach(() => {
  setPaths({});
  process.umask(saved.umask);
});

describe("secureDataDir", () => {
  it("secures the folder a symlinked DATA_DIR points at, and leaves alone what a symlink inside points at", () => {
    const root = mkdtempSync(path.join(os.tmpdir(), "datadir-"));
    try {
      const real = path.join(root, "real");
      mkdirSync(real, { mode: 0o755 });
      chmodSync(real, 0o755);
      writeFileSync(path.join(real, "master.key"), "k", { mode: 0o644 });
      chmodSync(path.join(real, "master.key"), 0o644);
      const outside = path.join(root, "outside");
      writeFileSync(outside, "o");
      chmodSync(outside, 0o644);
      symlinkSync(outside, path.join(real, "link"));
      symlinkSync(real, path.join(root, "data"));
      setPaths({ dataDir: path.join(root, "data") }); // DATA_DIR, as the server's config hands it over

      secureDataDir();

      expect(statSync(real).mode & 0o777).toBe(0o700);
      expect(statSync(path.join(real, "master.key")).mode & 0o777).toBe(0o600);
      expect(statSync(outside).mode & 0o777).toBe(0o644);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
