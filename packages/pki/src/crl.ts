import * as asn1js from "asn1js";
import { z } from "zod";
import { normalizeSerial, toSecond } from "./encoding";
import { authorityKeyIdentifier } from "./extensions";
import type { KeyStore } from "./key-store";
import { cryptoFor, x509 } from "./provider";
import { loadSigner, type CaRef } from "./signer";
import { PkiError, invalidInput } from "@attested/errors";

/** RFC 5280 §5.3.1 CRLReason names (removeFromCRL is for delta CRLs, which we do not publish). */
export const REVOCATION_REASONS = [
  "unspecified",
  "keyCompromise",
  "caCompromise",
  "affiliationChanged",
  "superseded",
  "cessationOfOperation",
  "certificateHold",
  "privilegeWithdrawn",
  "aACompromise",
] as const;
export type RevocationReason = (typeof REVOCATION_REASONS)[number];

export const REASON_CODES: Record<RevocationReason, number> = {
  unspecified: 0,
  keyCompromise: 1,
  caCompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 9,
  aACompromise: 10,
};

/** The CA form's Reason Code drop-down (guide, "Revocation" section) and the reason each label means. */
export const REASON_CODE_LABELS = {
  "Certificate Hold": "certificateHold",
  "AA Compromise": "aACompromise",
  "Privilege Withdrawn": "privilegeWithdrawn",
  Unspecified: "unspecified",
} as const satisfies Record<string, RevocationReason>;
export type ReasonCodeLabel = keyof typeof REASON_CODE_LABELS;

export function reasonFromLabel(label: string): RevocationReason {
  const r = (REASON_CODE_LABELS as Record<string, RevocationReason>)[label];
  if (!r) throw new PkiError("invalidInput", `Reason Code must be one of ${Object.keys(REASON_CODE_LABELS).join(", ")}`, "reasonCode");
  return r;
}

export interface RevokedEntry {
  serialNumber: string;
  revokedAt: Date;
  reason: RevocationReason;
}

export interface BuildCrlInput {
  ca: CaRef;
  keyStore: KeyStore;
  /** Monotonically increasing per CA (RFC 5280 §5.2.3); the caller keeps the counter. */
  crlNumber: number | bigint;
  thisUpdate: Date;
  nextUpdate: Date;
  revoked: RevokedEntry[];
}

const buildCrlSchema = z
  .object({
    crlNumber: z.union([z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), z.bigint().nonnegative()], {
      message: "crlNumber must be a non-negative integer",
    }),
    thisUpdate: z.date({ message: "thisUpdate must be a date" }),
    nextUpdate: z.date({ message: "nextUpdate must be a date" }),
    revoked: z.array(
      z.object({
        serialNumber: z.string().refine((s) => normalizeSerial(s) !== null, "serialNumber must be hex"),
        revokedAt: z.date({ message: "revokedAt must be a date" }),
        reason: z.enum(REVOCATION_REASONS, { message: `reason must be one of ${REVOCATION_REASONS.join(", ")}` }),
      }),
    ),
  })
  .refine((v) => v.nextUpdate.getTime() > v.thisUpdate.getTime(), { message: "nextUpdate must be after thisUpdate", path: ["nextUpdate"] });

/** A DER v2 CRL signed by the CA, with AKI, CRL number and a reason code per entry. */
export async function buildCrl(input: BuildCrlInput): Promise<Buffer> {
  const p = buildCrlSchema.safeParse(input);
  if (!p.success) throw invalidInput(p.error.issues);
  const signer = await loadSigner(input.ca, input.keyStore);
  const ku = signer.certificate.getExtension(x509.KeyUsagesExtension);
  if (ku && !(ku.usages & x509.KeyUsageFlags.cRLSign)) throw new PkiError("badCaCertificate", "The CA may not sign CRLs (no cRLSign)", "ca");
  const crlNumber = new asn1js.Integer({ valueHex: bigintBytes(BigInt(p.data.crlNumber)) }).toBER();
  const seen = new Set<string>();
  const entries: x509.X509CrlEntryParams[] = [];
  for (const r of p.data.revoked) {
    const serialNumber = normalizeSerial(r.serialNumber)!;
    if (seen.has(serialNumber)) continue; // the same certificate listed twice would make an invalid CRL
    seen.add(serialNumber);
    // RFC 5280 §5.3.1: "the reason code CRL entry extension SHOULD be absent instead of using the
    // unspecified (0) reasonCode value" — the library omits it for 0, which is what we want.
    entries.push({ serialNumber, revocationDate: toSecond(r.revokedAt), reason: REASON_CODES[r.reason] });
  }
  const crl = await x509.X509CrlGenerator.create(
    {
      issuer: signer.certificate.subjectName,
      thisUpdate: toSecond(p.data.thisUpdate),
      nextUpdate: toSecond(p.data.nextUpdate),
      signingKey: signer.key,
      signingAlgorithm: signer.algorithm,
      extensions: [await authorityKeyIdentifier(signer.certificate), new x509.Extension("2.5.29.20", false, crlNumber)],
      entries,
    },
    cryptoFor(signer.key),
  );
  if (!(await crl.verify({ publicKey: signer.certificate.publicKey }).catch(() => false))) {
    throw new PkiError("caKeyMismatch", "The CA key in the key store does not match the CA certificate");
  }
  return Buffer.from(crl.rawData);
}

/** Minimal two's-complement big-endian bytes of a non-negative integer. */
function bigintBytes(n: bigint): ArrayBuffer {
  let hex = n.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (parseInt(hex[0], 16) >= 8) hex = `00${hex}`;
  return new Uint8Array(Buffer.from(hex, "hex")).buffer;
}
