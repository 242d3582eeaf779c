import { z } from "zod";
import { likeLiteral, type Certificate, type Prisma } from "@attested/db";
import type { CaContext } from "./context";

export const certificatesQuerySchema = z.object({
  q: z.string().trim().min(1).max(200).optional(),
  caId: z.string().uuid("Unknown Certificate Authority").optional(),
  status: z.enum(["active", "revoked", "on_hold", "expired"]).optional(),
  expiringWithinDays: z.coerce.number().int().min(1).max(3650).optional(),
  deviceSerial: z.string().trim().min(1).optional(),
  cursor: z.string().uuid().optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
});
export type CertificatesQuery = z.input<typeof certificatesQuerySchema>;

export type CertificateRow = Certificate & { ca: { id: string; commonName: string }; template: { id: string; name: string } | null };

/** Dynamic PKI > Certificates: search by serial, subject, SAN or device serial; filters; newest first. */
export async function searchCertificates(ctx: CaContext, input: CertificatesQuery): Promise<{ certificates: CertificateRow[]; nextCursor: string | null }> {
  const q = certificatesQuerySchema.parse(input);
  const now = ctx.now?.() ?? new Date();
  const and: Prisma.CertificateWhereInput[] = [];
  if (q.caId) and.push({ caId: q.caId });
  if (q.deviceSerial) and.push({ deviceSerial: q.deviceSerial });
  if (q.status === "active") and.push({ status: "ACTIVE", notAfter: { gt: now } });
  if (q.status === "revoked") and.push({ status: "REVOKED" });
  if (q.status === "on_hold") and.push({ status: "ON_HOLD" });
  if (q.status === "expired") and.push({ notAfter: { lte: now } });
  if (q.expiringWithinDays) and.push({ status: "ACTIVE", notAfter: { gt: now, lte: new Date(now.getTime() + q.expiringWithinDays * 86_400_000) } });
  if (q.q) {
    const serial = q.q.toLowerCase().replace(/[:\s]/g, "").replace(/^0x/, "");
    // A serial number (unique, indexed) answers at once; the substring searches below scan the table.
    if (/^[0-9a-f]{16,40}$/.test(serial) && !q.cursor) {
      const exact = await ctx.db.certificate.findMany({
        where: { AND: [...and, { serialNumber: serial }] },
        include: { ca: { select: { id: true, commonName: true } }, template: { select: { id: true, name: true } } },
      });
      if (exact.length) return { certificates: exact, nextCursor: null };
    }
    const sanIds = await ctx.db.$queryRawUnsafe<{ id: string }[]>(`SELECT id FROM "Certificate" WHERE sans::text ILIKE $1 LIMIT 1000`, `%${likeLiteral(q.q)}%`);
    and.push({
      OR: [
        { serialNumber: serial },
        { deviceSerial: { equals: q.q, mode: "insensitive" } },
        // Prisma passes `contains` to ILIKE as it is: a "%" or "_" typed would be a wildcard.
        { subjectDn: { contains: likeLiteral(q.q), mode: "insensitive" } },
        { id: { in: sanIds.map((r) => r.id) } },
      ],
    });
  }
  const where: Prisma.CertificateWhereInput = and.length ? { AND: and } : {};
  const rows = await ctx.db.certificate.findMany({
    where,
    orderBy: [{ issuedAt: "desc" }, { id: "desc" }],
    cursor: q.cursor ? { id: q.cursor } : undefined,
    skip: q.cursor ? 1 : 0,
    take: q.limit + 1,
    include: { ca: { select: { id: true, commonName: true } }, template: { select: { id: true, name: true } } },
  });
  const more = rows.length > q.limit;
  const page = rows.slice(0, q.limit);
  return { certificates: page, nextCursor: more ? page[page.length - 1].id : null };
}

/** The status an auditor reads: revoked and on hold win over expiry. */
export function displayStatus(c: Pick<Certificate, "status" | "notAfter">, now = new Date()): "Active" | "Revoked" | "On Hold" | "Expired" {
  if (c.status === "REVOKED") return "Revoked";
  if (c.status === "ON_HOLD") return "On Hold";
  return c.notAfter <= now ? "Expired" : "Active";
}
