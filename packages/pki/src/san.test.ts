import { describe, expect, it } from "vitest";
import { isDnsName, isEmail, isUri, sanError } from "./san";

describe("SAN values", () => {
  it("accepts host names, mailboxes and absolute URIs, and nothing looser", () => {
    expect(["a.example.com", "xn--bcher-kva.example", "host-1", `${"a".repeat(63)}.com`].every(isDnsName)).toBe(true);
    expect(["", "-a.com", "a-.com", "a..com", "*.example.com", "a_b.com", "a.com.", `${"a".repeat(64)}.com`, "café.fr"].some(isDnsName)).toBe(false);
    expect(["jane@example.com", "j.o+tag@sub.example.org", "o'neil@example.com"].every(isEmail)).toBe(true);
    expect(["jane", "@example.com", "jane@", "ja..ne@example.com", "jane@exa mple.com", "jané@example.com", "a@b@c.com"].some(isEmail)).toBe(false);
    expect(["https://idp.example.com/u/jane", "urn:uuid:123e4567-e89b-12d3-a456-426614174000", "mailto:jane@example.com"].every(isUri)).toBe(true);
    expect(["idp.example.com/u", "https://exa mple.com", "", "://x", "https://é.com"].some(isUri)).toBe(false);
    expect(sanError({ type: "otherName", value: "jane@corp.example" })).toBeUndefined();
    expect(sanError({ type: "otherName", value: "bad\nvalue" })).toMatch(/Other Name/);
  });
});
