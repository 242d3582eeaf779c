import { createHash } from "node:crypto";
import {
  BasicOCSPResponse,
  CertID,
  CertStatus,
  OCSPRequest,
  OCSPResponse,
  OCSPResponseStatus,
  ResponderID,
  ResponseBytes,
  ResponseData,
  RevokedInfo,
  SingleResponse,
  id_pkix_ocsp_basic,
  id_pkix_ocsp_nonce,
  KeyHash,
} from "@peculiar/asn1-ocsp";
import { PkiError } from "@attested/errors";
import { AsnConvert, OctetString } from "@peculiar/asn1-schema";
import { AlgorithmIdentifier, Certificate, CRLReason, Extension } from "@peculiar/asn1-x509";
import { REASON_CODES, type RevocationReason } from "./crl";
import { bytes, normalizeSerial, parseCertificate, rawSubjectName, subjectPublicKeyBits, toBuffer, toSecond, type Binary } from "./encoding";
import { children, DerError, readOid, readTlv, type Tlv } from "@attested/der";
import type { KeyStore } from "./key-store";
import { crypto, x509 } from "./provider";
import { loadSigner, signTbs, type CaRef, type Signer } from "./signer";

// OCSP (RFC 6960): requests are parsed, responses are BasicOCSPResponses signed by the CA itself
// (§4.2.2.2 "the CA who issued the certificate in question"), responderID byKey, nonce echoed (RFC 8954).

const HASHES: Record<string, "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512"> = {
  "1.3.14.3.2.26": "SHA-1",
  "2.16.840.1.101.3.4.2.1": "SHA-256",
  "2.16.840.1.101.3.4.2.2": "SHA-384",
  "2.16.840.1.101.3.4.2.3": "SHA-512",
};
const NODE_HASH = { "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" } as const;
const MAX_REQUEST_BYTES = 16 * 1024;
const MAX_NONCE_BYTES = 128;

/** One certificate asked about, identified as RFC 6960 §4.1.1 CertID. Hashes and serial in lower-case hex. */
export interface OcspCertId {
  /** "SHA-1", "SHA-256", ... or the OID when unknown. */
  hashAlgorithm: string;
  hashAlgorithmOid: string;
  issuerNameHash: string;
  issuerKeyHash: string;
  serialNumber: string;
}

export interface OcspRequestInfo {
  requests: OcspCertId[];
  /** The nonce extension's value as sent (to be echoed byte for byte). */
  nonce?: Buffer;
}

/** Parses a DER OCSPRequest; anything malformed is a PkiError `badOcspRequest` (answer malformedRequest). */
export function parseOcspRequest(der: Binary): OcspRequestInfo {
  const bad = (message: string, cause?: unknown) => new PkiError("badOcspRequest", message, "request", undefined, { cause });
  if (!der || der.byteLength === 0) throw bad("Empty OCSP request");
  if (der.byteLength > MAX_REQUEST_BYTES) throw bad("OCSP request too large");
  let req: RawOcspRequest;
  try {
    req = readOcspRequest(bytes(toBuffer(der)));
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
    // Anything but the plain DER shape clients send: the full ASN.1 parser decides.
    try {
      const parsed = AsnConvert.parse(bytes(toBuffer(der)), OCSPRequest);
      req = {
        version: parsed.tbsRequest.version,
        certIds: parsed.tbsRequest.requestList.map(({ reqCert }) => ({
          hashAlgorithmOid: reqCert.hashAlgorithm.algorithm,
          issuerNameHash: Buffer.from(reqCert.issuerNameHash.buffer),
          issuerKeyHash: Buffer.from(reqCert.issuerKeyHash.buffer),
          serial: Buffer.from(reqCert.serialNumber),
        })),
        nonce: ((n) => n && Buffer.from(n.extnValue.buffer))(parsed.tbsRequest.requestExtensions?.find((x) => x.extnID === id_pkix_ocsp_nonce)),
      };
    } catch (cause) {
      throw bad("Malformed OCSP request", cause);
    }
  }
  if (req.version !== 0) throw bad(`Unsupported OCSP request version ${req.version}`);
  if (!req.certIds.length) throw bad("OCSP request lists no certificate");
  const requests = req.certIds.map((c) => {
    const serialNumber = normalizeSerial(c.serial.toString("hex"));
    if (!serialNumber) throw bad("OCSP request has an empty serial number");
    return {
      hashAlgorithm: HASHES[c.hashAlgorithmOid] ?? c.hashAlgorithmOid,
      hashAlgorithmOid: c.hashAlgorithmOid,
      issuerNameHash: c.issuerNameHash.toString("hex"),
      issuerKeyHash: c.issuerKeyHash.toString("hex"),
      serialNumber,
    };
  });
  const nonce = req.nonce;
  if (nonce && (nonce.length === 0 || nonce.length > MAX_NONCE_BYTES)) throw bad("OCSP nonce has an invalid length");
  return { requests, nonce };
}

interface RawOcspRequest {
  version: number;
  certIds: { hashAlgorithmOid: string; issuerNameHash: Buffer; issuerKeyHash: Buffer; serial: Buffer }[];
  /** The nonce extension's extnValue contents. */
  nonce?: Buffer;
}

/**
 * OCSPRequest (RFC 6960 §4.1.1) in the plain DER shape clients send, read in place: every relying party
 * of a busy CA asks this, and the generic ASN.1 parser was most of the cost of a cached answer. Throws
 * DerError for anything else (a signed request, a requestor name, unusual encodings).
 */
function readOcspRequest(buf: Uint8Array): RawOcspRequest {
  const outer = readTlv(buf, 0);
  if (outer.tag !== 0x30 || outer.end !== buf.length) throw new DerError("not a SEQUENCE");
  const [tbs, ...rest] = children(buf, outer);
  if (tbs?.tag !== 0x30 || rest.length) throw new DerError("unexpected OCSPRequest shape");
  const parts = children(buf, tbs);
  let i = 0;
  let version = 0;
  if (parts[i]?.tag === 0xa0) {
    const [v, ...more] = children(buf, parts[i++]!);
    if (v?.tag !== 0x02 || more.length || v.end - v.body !== 1) throw new DerError("unexpected version");
    version = buf[v.body]!;
  }
  const list = parts[i++];
  if (list?.tag !== 0x30) throw new DerError("no requestList");
  const certIds = children(buf, list).map((request) => {
    const [certId, ...extra] = request.tag === 0x30 ? children(buf, request) : [];
    if (certId?.tag !== 0x30 || extra.length) throw new DerError("unexpected Request shape");
    const [alg, nameHash, keyHash, serial, ...more] = children(buf, certId);
    if (alg?.tag !== 0x30 || nameHash?.tag !== 0x04 || keyHash?.tag !== 0x04 || serial?.tag !== 0x02 || more.length)
      throw new DerError("unexpected CertID shape");
    const [algOid, params, ...algMore] = children(buf, alg);
    if (algOid?.tag !== 0x06 || (params && !(params.tag === 0x05 && params.end === params.body)) || algMore.length)
      throw new DerError("unexpected hash algorithm");
    const contents = (t: Tlv) => Buffer.from(buf.subarray(t.body, t.end));
    return { hashAlgorithmOid: readOid(buf, algOid), issuerNameHash: contents(nameHash), issuerKeyHash: contents(keyHash), serial: contents(serial) };
  });
  let nonce: Buffer | undefined;
  if (parts[i]?.tag === 0xa2) {
    const [exts, ...more] = children(buf, parts[i++]!);
    if (exts?.tag !== 0x30 || more.length) throw new DerError("unexpected requestExtensions");
    for (const ext of children(buf, exts)) {
      const [id, second, third, ...extMore] = ext.tag === 0x30 ? children(buf, ext) : [];
      const value = third ?? second;
      if (id?.tag !== 0x06 || value?.tag !== 0x04 || (third && second!.tag !== 0x01) || extMore.length) throw new DerError("unexpected Extension");
      if (readOid(buf, id) === id_pkix_ocsp_nonce && !nonce) nonce = Buffer.from(buf.subarray(value.body, value.end));
    }
  }
  if (i !== parts.length) throw new DerError("unexpected TBSRequest fields");
  return { version, certIds, nonce };
}

/** Whether a CertID names `issuerCertPem` as the issuer (same name hash and key hash). */
export function matchesIssuer(certId: Pick<OcspCertId, "hashAlgorithm" | "issuerNameHash" | "issuerKeyHash">, issuerCertPem: string): boolean {
  const alg = NODE_HASH[certId.hashAlgorithm as keyof typeof NODE_HASH];
  if (!alg) return false;
  const issuer = parseCertificate(issuerCertPem, "issuerCertPem");
  const nameHash = createHash(alg).update(rawSubjectName(issuer)).digest("hex");
  const keyHash = createHash(alg).update(subjectPublicKeyBits(issuer)).digest("hex");
  return nameHash === certId.issuerNameHash.toLowerCase() && keyHash === certId.issuerKeyHash.toLowerCase();
}

export type OcspCertStatus = "good" | "revoked" | "unknown";

export interface OcspEntry {
  certId: OcspCertId;
  status: OcspCertStatus;
  revokedAt?: Date;
  reason?: RevocationReason;
}

export interface BuildOcspResponseInput {
  /** Who signs: the issuing CA (or a delegated responder certified by it with id-kp-OCSPSigning). */
  responder: CaRef;
  /** The CA that issued the certificates asked about; defaults to the responder. */
  issuerCertPem?: string;
  keyStore: KeyStore;
  entries: OcspEntry[];
  nonce?: Buffer;
  thisUpdate: Date;
  nextUpdate: Date;
  now: Date;
  /** Put the responder certificate in the response so clients find the signer (default true). */
  includeResponderCertificate?: boolean;
}

function encodeResponse(status: OCSPResponseStatus, responseBytes?: ResponseBytes): Buffer {
  return Buffer.from(AsnConvert.serialize(new OCSPResponse({ responseStatus: status, responseBytes })));
}

const ERROR_STATUSES = {
  malformedRequest: OCSPResponseStatus.malformedRequest,
  internalError: OCSPResponseStatus.internalError,
  tryLater: OCSPResponseStatus.tryLater,
  unauthorized: OCSPResponseStatus.unauthorized,
} as const;

/** An unsigned error response (RFC 6960 §2.3): malformedRequest, internalError, tryLater or unauthorized. */
export function ocspErrorResponse(status: keyof typeof ERROR_STATUSES): Buffer {
  return encodeResponse(ERROR_STATUSES[status]);
}

function certIdAsn(id: OcspCertId): CertID {
  const hex = (s: string, what: string) => {
    if (!/^([0-9a-f]{2})+$/i.test(s)) throw new PkiError("invalidInput", `${what} must be hex`, "entries");
    return new OctetString(Buffer.from(s, "hex"));
  };
  const serial = normalizeSerial(id.serialNumber);
  if (!serial) throw new PkiError("invalidInput", "serialNumber must be hex", "entries");
  const bytes = Buffer.from(serial, "hex");
  return new CertID({
    // SHA-family AlgorithmIdentifiers carry NULL parameters, as OpenSSL writes them.
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: id.hashAlgorithmOid, parameters: new Uint8Array([5, 0]).buffer }),
    issuerNameHash: hex(id.issuerNameHash, "issuerNameHash"),
    issuerKeyHash: hex(id.issuerKeyHash, "issuerKeyHash"),
    serialNumber: new Uint8Array(bytes[0] & 0x80 ? Buffer.concat([Buffer.from([0]), bytes]) : bytes).buffer,
  });
}

/** A successful, signed BasicOCSPResponse (DER) for the given entries. */
export async function buildOcspResponse(input: BuildOcspResponseInput): Promise<Buffer> {
  const signer = await loadSigner(input.responder, input.keyStore, "responder");
  const issuerPem = input.issuerCertPem ?? input.responder.certificatePem;
  if (input.issuerCertPem) {
    const issuer = parseCertificate(input.issuerCertPem, "issuerCertPem");
    if (!issuer.equal(signer.certificate)) await assertDelegatedResponder(signer.certificate, issuer);
  }
  if (!input.entries.length) throw new PkiError("invalidInput", "An OCSP response needs at least one entry", "entries");
  if (input.nonce && (input.nonce.length === 0 || input.nonce.length > MAX_NONCE_BYTES)) {
    throw new PkiError("invalidInput", "nonce has an invalid length", "nonce");
  }
  const thisUpdate = toSecond(input.thisUpdate);
  const nextUpdate = toSecond(input.nextUpdate);
  if (nextUpdate <= thisUpdate) throw new PkiError("invalidInput", "nextUpdate must be after thisUpdate", "nextUpdate");

  const responses = input.entries.map((e, i) => {
    // Never vouch for a certificate of another CA: only "unknown" may be said about foreign CertIDs.
    if (e.status !== "unknown" && !matchesIssuer(e.certId, issuerPem)) {
      throw new PkiError("invalidInput", `Entry ${i} is not for this issuer; answer "unknown" for it`, `entries.${i}.certId`);
    }
    let certStatus: CertStatus;
    if (e.status === "good") certStatus = new CertStatus({ good: null });
    else if (e.status === "unknown") certStatus = new CertStatus({ unknown: null });
    else if (e.status === "revoked") {
      if (!e.revokedAt) throw new PkiError("invalidInput", "A revoked entry needs revokedAt", `entries.${i}.revokedAt`);
      const code = e.reason === undefined ? undefined : REASON_CODES[e.reason];
      if (e.reason !== undefined && code === undefined) throw new PkiError("invalidInput", `Unknown reason ${e.reason}`, `entries.${i}.reason`);
      certStatus = new CertStatus({
        revoked: new RevokedInfo({
          revocationTime: toSecond(e.revokedAt),
          revocationReason: code === undefined ? undefined : new CRLReason(code),
        }),
      });
    } else throw new PkiError("invalidInput", `Unknown status ${String(e.status)}`, `entries.${i}.status`);
    return new SingleResponse({ certID: certIdAsn(e.certId), certStatus, thisUpdate, nextUpdate });
  });

  const tbs = new ResponseData({
    responderID: new ResponderID({ byKey: new KeyHash(createHash("sha1").update(subjectPublicKeyBits(signer.certificate)).digest()) }),
    producedAt: toSecond(input.now),
    responses,
    responseExtensions: input.nonce ? [new Extension({ extnID: id_pkix_ocsp_nonce, critical: false, extnValue: new OctetString(input.nonce) })] : undefined,
  });
  const tbsDer = AsnConvert.serialize(tbs);
  const { algorithm, signature } = await signTbs(signer, tbsDer);
  const basic = new BasicOCSPResponse({
    tbsResponseData: tbs,
    signatureAlgorithm: algorithm,
    signature,
    certs: input.includeResponderCertificate === false ? undefined : [AsnConvert.parse(signer.certificate.rawData, Certificate)],
  });
  const basicDer = AsnConvert.serialize(basic);
  await assertVerifies(signer, tbsDer, signature);
  return encodeResponse(OCSPResponseStatus.successful, new ResponseBytes({ responseType: id_pkix_ocsp_basic, response: new OctetString(basicDer) }));
}

/** A delegated responder must be certified by the issuer for OCSP signing (RFC 6960 §4.2.2.2). */
async function assertDelegatedResponder(responder: x509.X509Certificate, issuer: x509.X509Certificate): Promise<void> {
  const eku = responder.getExtension(x509.ExtendedKeyUsageExtension);
  const signedByIssuer = await responder.verify({ publicKey: issuer.publicKey, signatureOnly: true });
  if (!signedByIssuer || !eku?.usages.includes(x509.ExtendedKeyUsage.ocspSigning)) {
    throw new PkiError("badCaCertificate", "The responder is neither the issuer nor an OCSP signer certified by it", "responder");
  }
}

/** Catches a key id that does not belong to the responder certificate before a client does. */
async function assertVerifies(signer: Signer, tbs: ArrayBuffer, signature: ArrayBuffer): Promise<void> {
  const pub = await signer.certificate.publicKey.export(signer.algorithm, ["verify"]);
  const raw = new x509.AsnEcSignatureFormatter().toWebSignature(signer.algorithm, signature) ?? signature;
  if (!(await crypto.subtle.verify(signer.algorithm, pub, raw, tbs))) {
    throw new PkiError("caKeyMismatch", "The responder key in the key store does not match its certificate");
  }
}
