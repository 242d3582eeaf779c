import path from "node:path";
import { dataDir } from "@attested/db";
import { defaultDataDir } from "@attested/secrets";
import { afterEach, describe, expect, it } from "vitest";

// @attested/secrets finds the master key's folder without depending on @attested/db: both must name
// the same folder, or a process would create a second master key.

const saved = { DATA_DIR: process.env.DATA_DIR, ATTESTED_ROOT: process.env.ATTESTED_ROOT };
afterEach(() => {
  for (const [k, v] of Object.entries(saved)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

describe("the data folder", () => {
  it("is the same for @attested/secrets and @attested/db when nobody configured one; neither reads DATA_DIR or ATTESTED_ROOT itself", () => {
    for (const DATA_DIR of [undefined, "relative/data", path.join("/tmp", "attested-data")]) {
      for (const ATTESTED_ROOT of [undefined, path.join("/tmp", "attested-root")]) {
        if (DATA_DIR === undefined) delete process.env.DATA_DIR;
        else process.env.DATA_DIR = DATA_DIR;
        if (ATTESTED_ROOT === undefined) delete process.env.ATTESTED_ROOT;
        else process.env.ATTESTED_ROOT = ATTESTED_ROOT;
        expect(defaultDataDir()).toBe(dataDir());
        expect(dataDir()).toBe(path.join(path.resolve(import.meta.dirname, "../../.."), "data"));
      }
    }
  });
});
