import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

// A SoftHSM2 token of its own for a test or a benchmark: a config file and token folder in a temporary
// folder (SOFTHSM2_CONF points at it), initialized with softhsm2-util. Not a simulation: the real
// PKCS#11 library the README's HSMs are used through.

export const SOFTHSM_MODULE = [
  "/usr/lib/softhsm/libsofthsm2.so",
  "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
  "/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
].find((p) => existsSync(p));

export interface SoftHsmToken {
  module: string;
  label: string;
  pin: string;
  soPin: string;
  /** SOFTHSM2_CONF for processes using the token (this process's is set by createSoftHsmToken). */
  conf: string;
  dir: string;
  remove: () => void;
}

/**
 * Initializes a token in a fresh folder (and `others` beside it) and points this process's SOFTHSM2_CONF
 * at it. A PKCS#11 login holds for the whole process per token, so a test of a wrong PIN needs a token
 * nobody logged in to: one of `others`.
 */
export function createSoftHsmToken(label = "Attested Test", pin = "1234-test-pin", others: { label: string; pin: string }[] = []): SoftHsmToken {
  if (!SOFTHSM_MODULE) throw new Error("SoftHSM2 is not installed (Debian: apt-get install softhsm2)");
  const dir = mkdtempSync(path.join(os.tmpdir(), "attested-softhsm-"));
  const conf = path.join(dir, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${path.join(dir, "tokens")}\nobjectstore.backend = file\nlog.level = ERROR\n`);
  mkdirSync(path.join(dir, "tokens"));
  const soPin = "5678-test-so-pin";
  for (const t of [{ label, pin }, ...others]) {
    execFileSync("softhsm2-util", ["--init-token", "--free", "--label", t.label, "--pin", t.pin, "--so-pin", soPin], {
      env: { ...process.env, SOFTHSM2_CONF: conf },
      stdio: "ignore",
    });
  }
  process.env.SOFTHSM2_CONF = conf;
  return { module: SOFTHSM_MODULE, label, pin, soPin, conf, dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
