import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { attributeMappingTabSchema, configSchema, createApiTabSchema, createConfigSchema, createConfigurationTabSchema, fieldErrors } from "./schema";
import { lookupConfigFromRecord, openCorePlatformSecret, sealCorePlatformSecret } from "./secret";

const good = {
  authMethod: "bearer",
  secret: "tok",
  uri: "https://acme.api.kandji.io/api/v1/devices?serial_number=${identity}",
  validationRules: [{ path: "data[0].serial_number", condition: "equals", expected: "${identity}" }],
  attributeMappings: [{ path: "data[0].user.email", attribute: "email" }],
  groupsPath: "data[0].blueprint_name",
};

const errors = (schema: { safeParse(v: unknown): { success: boolean; error?: unknown } }, v: unknown) => {
  const r = schema.safeParse(v);
  return r.success ? {} : fieldErrors(r.error as never);
};

describe("configSchema", () => {
  it("accepts the guide's Kandji setup and fills defaults", () => {
    const r = configSchema.parse(good);
    expect(r.timeoutMs).toBe(5000);
    expect(r.groupsPath).toBe("data[0].blueprint_name");
    expect(configSchema.parse({ ...good, groupsPath: "" }).groupsPath).toBeNull();
  });

  it("gives field-level messages", () => {
    expect(
      errors(configSchema, {
        ...good,
        secret: "",
        uri: "kandji.io/devices",
        validationRules: [
          { path: "body.x", condition: "exists" },
          { path: "data[0].serial_number", condition: "equals" },
          { path: "data[0].serial_number", condition: "matches", expected: "(a+)+" },
          { path: "data[0].serial_number", condition: "equals", expected: "${serial}" },
          { path: "data[0].serial_number", condition: "bigger" },
        ],
        attributeMappings: [
          { path: "data[0].user.email", attribute: "email" },
          { path: "data[0].user.name", attribute: "email" },
          { path: "data[0]", attribute: "1st" },
        ],
        groupsPath: "data[0].tags, data[",
        timeoutMs: 10,
      }),
    ).toEqual({
      secret: "Bearer Token is required",
      uri: expect.stringMatching(/^URI must be a full http\(s\) URL/),
      "validationRules.0.path": expect.stringMatching(/must start with data, status or headers/),
      "validationRules.1.expected": "Expected result is required for this condition",
      "validationRules.2.expected": expect.stringMatching(/exponential/),
      "validationRules.3.expected": expect.stringMatching(/unknown variable/),
      "validationRules.4.condition": "Choose a Condition",
      "attributeMappings.1.attribute": "Attribute email is mapped twice",
      "attributeMappings.2.attribute": expect.stringMatching(/start with a letter/),
      groupsPath: expect.stringMatching(/^data\[: /),
      timeoutMs: "Timeout is at least 100 ms",
    });
  });

  it("requires https unless http is explicitly allowed", () => {
    const http = { ...good, uri: "http://127.0.0.1:4010/api/v1/devices?serial_number=${identity}" };
    expect(errors(configSchema, http)).toEqual({ uri: "URI must use https:// (plain http is refused)" });
    expect(errors(createConfigSchema({ allowHttp: true }), http)).toEqual({});
    expect(errors(configSchema, { ...good, uri: "ftp://x/y" })).toEqual({ uri: "URI must start with https://" });
    expect(errors(configSchema, { ...good, uri: "https://u:p@x/y" }).uri).toMatch(/user name or password/);
    expect(errors(configSchema, { ...good, uri: "https://x/${/attestation/serialNumber}" })).toEqual({});
  });

  it("checks each authentication method's fields; a stored secret may be kept", () => {
    const tab = createConfigurationTabSchema();
    expect(errors(tab, { authMethod: "basic", secret: "p" })).toEqual({ basicUsername: "User name is required" });
    expect(errors(tab, { authMethod: "basic", secret: "p", basicUsername: "a:b" })).toEqual({ basicUsername: 'User name cannot contain ":"' });
    expect(errors(tab, { authMethod: "api-key", secret: "k", apiKeyHeader: "X Key" }).apiKeyHeader).toMatch(/only letters/);
    expect(errors(tab, { authMethod: "api-key", secret: "k", apiKeyHeader: "Host" })).toEqual({ apiKeyHeader: "Host cannot carry an API key" });
    expect(errors(tab, { authMethod: "api-key", apiKeyHeader: "X-API-Key" })).toEqual({ secret: "API Key is required" });
    expect(errors(createConfigurationTabSchema({ secretStored: true }), { authMethod: "bearer" })).toEqual({});
    expect(errors(tab, { authMethod: "none" })).toEqual({});
    expect(errors(tab, { authMethod: "bearer", secret: "a\nb" })).toEqual({ secret: "The secret must be a single line" });
    expect(errors(tab, { authMethod: "oauth" })).toEqual({ authMethod: "Choose an Authentication Method" });
  });

  it("has one schema per tab", () => {
    expect(createApiTabSchema({ allowHttp: false }).parse({ uri: good.uri, timeoutMs: "2500" })).toEqual({
      uri: good.uri,
      validationRules: [],
      timeoutMs: 2500,
    });
    expect(attributeMappingTabSchema.parse({})).toEqual({ attributeMappings: [] });
  });
});

describe("stored secrets", () => {
  it("seal to one platform and rebuild the lookup config from a row", () => {
    const key = randomBytes(32);
    const blob = sealCorePlatformSecret("kandji-token", "p1", key);
    expect(Buffer.from(blob).includes(Buffer.from("kandji-token"))).toBe(false);
    expect(openCorePlatformSecret(blob, "p1", key)).toBe("kandji-token");
    expect(() => openCorePlatformSecret(blob, "p2", key)).toThrow(/cannot decrypt/);
    const cfg = lookupConfigFromRecord(
      {
        id: "p1",
        authMethod: "bearer",
        secret: blob,
        basicUsername: null,
        apiKeyHeader: null,
        uri: good.uri,
        validationRules: good.validationRules,
        attributeMappings: good.attributeMappings,
        groupsPath: null,
        timeoutMs: 4000,
      },
      key,
    );
    expect(cfg).toMatchObject({ secret: "kandji-token", authMethod: "bearer", timeoutMs: 4000, uri: good.uri });
  });
});
