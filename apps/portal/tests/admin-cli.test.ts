import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { adminCli, tempDir } from "./harness";

// `npm run admin -- ...` typed wrong: the mistake and the usage at once, exit 2, and the database is
// not opened (on the embedded one that took seconds, and made an empty database in a new DATA_DIR).
describe("the admin CLI given a wrong command line", () => {
  it.each([
    [["frobnicate"], 'error: unknown command "frobnicate"'],
    [["create-user", "--role", "auditor"], "error: create-user needs the user's email"],
    [["reset-password"], "error: reset-password needs the user's email"],
    [["reset-2fa"], "error: reset-2fa needs the user's email"],
    [["create-api-token", "--role", "admin"], "error: create-api-token needs the token's name"],
    [["create-user", "bob@example.com", "--role", "superuser"], "error: Role must be Admin or Auditor (--role admin or --role auditor)"],
    [["create-api-token", "ci"], "error: Role must be Admin or Auditor (--role admin or --role auditor)"],
  ])("%j: %s", (args, message) => {
    const dataDir = tempDir("attested-admin-cli-");
    const r = adminCli({ DATABASE_URL: "", DATA_DIR: dataDir }, ...args);
    expect(r.status, r.output).toBe(2);
    expect(r.output.split("\n")[0]).toBe(message);
    expect(existsSync(path.join(dataDir, "pglite"))).toBe(false);
  });

  it("help prints the usage and succeeds", () => {
    const r = adminCli({ DATABASE_URL: "", DATA_DIR: tempDir("attested-admin-cli-") }, "help");
    expect(r.status).toBe(0);
    expect(r.output).toMatch(/^usage: npm run admin -- <command>\n {2}create-user <email> --role admin\|auditor/);
  });
});
