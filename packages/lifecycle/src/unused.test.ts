import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { releaseHold } from "@attested/ca";
import { admin, crlLists, harness, type Harness } from "./testing";
import { revokeUnusedCertificates } from "./unused";

let h: Harness;
beforeAll(async () => {
  h = await harness();
});
afterAll(() => h.close());

const statusOf = (id: string) =>
  h.db.prisma.certificate.findUniqueOrThrow({ where: { id }, select: { status: true, revocationReason: true, revokedAt: true } });

describe("Revoke Certificate if unused for N days", () => {
  it("since last usage: revokes with the CA's reason once the last OCSP check is N days old, never-used ones from issuance", async () => {
    const start = new Date();
    h.clock.set(start);
    const ca = await h.makeCa({ revokeUnusedDays: "30", revokeSinceLastUsage: "on", revocationReason: "privilegeWithdrawn" });
    const used = await h.issue(ca.id, { cn: "USED0001", deviceSerial: "USED0001" });
    const idle = await h.issue(ca.id, { cn: "IDLE0001", deviceSerial: "IDLE0001" });

    h.clock.advanceDays(10);
    expect(await h.ocspStatus(ca.id, ca.pem, used.pemFile)).toMatch(/: good/);
    expect((await h.db.prisma.certificate.findUniqueOrThrow({ where: { id: used.id } })).lastSeenAt?.getTime()).toBe(h.clock.now.getTime());

    h.clock.set(new Date(start.getTime() + 29.9 * 86_400_000));
    expect((await revokeUnusedCertificates(h.ctx)).revoked).toEqual([]);

    h.clock.set(new Date(start.getTime() + 30.1 * 86_400_000));
    const first = await revokeUnusedCertificates(h.ctx);
    expect(first.revoked).toEqual([expect.objectContaining({ certificateId: idle.id, reason: "privilegeWithdrawn", rule: "sinceLastUsage" })]);
    expect(await statusOf(idle.id)).toMatchObject({ status: "REVOKED", revocationReason: "privilegeWithdrawn", revokedAt: h.clock.now });
    expect(await statusOf(used.id)).toMatchObject({ status: "ACTIVE" });

    // The used one goes 30 days after its last check (day 10), not after issuance.
    h.clock.set(new Date(start.getTime() + 40.1 * 86_400_000));
    const second = await revokeUnusedCertificates(h.ctx);
    expect(second.revoked.map((r) => r.certificateId)).toEqual([used.id]);

    // OCSP and the CRL tell relying parties, with the reason (RFC 5280 privilegeWithdrawn = 9).
    const ocsp = await h.ocspStatus(ca.id, ca.pem, used.pemFile);
    expect(ocsp).toMatch(/: revoked/);
    expect(ocsp).toMatch(/Revocation Reason: .*\(0x9\)/);
    const crl = await h.crlText(ca.id);
    expect(crlLists(crl, used.serialNumber) && crlLists(crl, idle.serialNumber)).toBe(true);
    expect(crl).toContain("Privilege Withdrawn");

    const event = await h.db.prisma.event.findFirstOrThrow({ where: { type: "Certificate Revoked", certificateSerial: used.serialNumber } });
    expect(event).toMatchObject({ actorType: "system", actorName: "unused-certificates", outcome: "success", deviceSerial: "USED0001" });
    expect(event.details).toMatchObject({ reason: "privilegeWithdrawn", rule: "sinceLastUsage", unusedDays: 30 });
    expect(String((event.details as { why: string }).why)).toContain("last used");
    // A second sweep has nothing left to do.
    expect((await revokeUnusedCertificates(h.ctx)).revoked).toEqual([]);
  });

  it("since certificate issuance: revokes only certificates never used in their first N days", async () => {
    const start = new Date();
    h.clock.set(start);
    const ca = await h.makeCa({ revokeUnusedDays: "7", revokeSinceIssuance: "on", revocationReason: "aACompromise" });
    const used = await h.issue(ca.id, { cn: "USED0002" });
    const never = await h.issue(ca.id, { cn: "NEVR0002" });
    h.clock.advanceDays(1);
    await h.ocspStatus(ca.id, ca.pem, used.pemFile);
    h.clock.advanceDays(100);
    const r = await revokeUnusedCertificates(h.ctx);
    expect(r.revoked.filter((x) => x.caId === ca.id)).toEqual([
      expect.objectContaining({ certificateId: never.id, reason: "aACompromise", rule: "sinceIssuance" }),
    ]);
    expect(await statusOf(used.id)).toMatchObject({ status: "ACTIVE" });
    expect(await statusOf(never.id)).toMatchObject({ status: "REVOKED", revocationReason: "aACompromise" });
  });

  it("with Certificate Hold: the certificate goes on hold, an admin releases it, and it gets N fresh days", async () => {
    const start = new Date();
    h.clock.set(start);
    const ca = await h.makeCa({ revokeUnusedDays: "14", revokeSinceLastUsage: "on", revokeSinceIssuance: "on", revocationReason: "certificateHold" });
    const cert = await h.issue(ca.id, { cn: "HOLD0003", deviceSerial: "HOLD0003" });
    h.clock.advanceDays(15);
    expect((await revokeUnusedCertificates(h.ctx)).revoked.map((x) => x.certificateId)).toEqual([cert.id]);
    expect(await statusOf(cert.id)).toMatchObject({ status: "ON_HOLD", revocationReason: "certificateHold" });
    const held = await h.ocspStatus(ca.id, ca.pem, cert.pemFile);
    expect(held).toMatch(/: revoked/);
    expect(held).toMatch(/Revocation Reason: .*\(0x6\)/);
    expect(crlLists(await h.crlText(ca.id), cert.serialNumber)).toBe(true);

    await releaseHold(h.ctx, admin, cert.id);
    expect(await statusOf(cert.id)).toMatchObject({ status: "ACTIVE", revocationReason: null });
    expect(await h.ocspStatus(ca.id, ca.pem, cert.pemFile)).toMatch(/: good/);
    expect(crlLists(await h.crlText(ca.id), cert.serialNumber)).toBe(false);

    h.clock.advanceDays(13);
    expect((await revokeUnusedCertificates(h.ctx)).revoked).toEqual([]);
    h.clock.advanceDays(2);
    expect((await revokeUnusedCertificates(h.ctx)).revoked.map((x) => x.certificateId)).toEqual([cert.id]);
  });

  it("leaves CAs without the rule, expired and already revoked certificates alone", async () => {
    h.clock.set(new Date());
    const ca = await h.makeCa({});
    const cert = await h.issue(ca.id, { cn: "KEEP0004" });
    h.clock.advanceDays(200);
    expect((await revokeUnusedCertificates(h.ctx)).revoked.map((x) => x.certificateId)).not.toContain(cert.id);
    expect(await statusOf(cert.id)).toMatchObject({ status: "ACTIVE" });
    // Past its end, an unused certificate of a CA with the rule is not revoked either.
    const ruled = await h.makeCa({ revokeUnusedDays: "30", revokeSinceLastUsage: "on" });
    const old = await h.issue(ruled.id, { cn: "EXPD0004" });
    h.clock.advanceDays(400);
    expect((await revokeUnusedCertificates(h.ctx)).revoked.map((x) => x.certificateId)).not.toContain(old.id);
  });
});
