import { describe, expect, it } from "vitest";
import type { EnrollmentDecision } from "@attested/policy";
import { decideIssuance } from "./issue";

// Finalize's decision step is pure: the Enrollment Policies' decision when there is one (read and
// decided before), else the platform's default CA and template, else a denial.

const fromPolicy: EnrollmentDecision = { allowed: false, code: "deviceNotFound", reason: "not in Kandji", inputs: { engine: "enrollment-policies" } };
const withDefaults = { defaultCaId: "ca", defaultTemplateId: "tpl" };
const withoutDefaults = { defaultCaId: null, defaultTemplateId: null };

describe("decideIssuance", () => {
  it.each([
    ["the policies' decision wins over the platform's defaults", withDefaults, fromPolicy, { allowed: false, code: "deviceNotFound" }],
    [
      "no policy decision: the platform's default CA and template",
      withDefaults,
      null,
      { allowed: true, caId: "ca", templateId: "tpl", policy: { id: "", name: "platform defaults", priority: 0 } },
    ],
    ["no policy decision and only a default CA: denied", { defaultCaId: "ca", defaultTemplateId: null }, null, { allowed: false, code: "noPolicy" }],
    [
      "no policy decision and no defaults: denied",
      withoutDefaults,
      null,
      { allowed: false, code: "noPolicy", reason: "No Enrollment Policy applies and the platform has no default CA and template" },
    ],
  ] as const)("%s", (_name, platform, decision, expected) => {
    expect(decideIssuance(platform, decision)).toMatchObject(expected);
    expect(decideIssuance(platform, decision)).toEqual(decideIssuance(platform, decision));
  });
});
