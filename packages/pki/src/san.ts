import { AsnConvert } from "@peculiar/asn1-schema";
import { SubjectAlternativeName } from "@peculiar/asn1-x509";
import * as asn1js from "asn1js";
import { BOOLEAN_TRUE, latin1, octetString, oid, sequence, tlv, utf8 } from "@attested/der";
import { x509 } from "./provider";

/** SAN types of the template's SAN section: Other Name (UPN), RFC822, DNS, URI. */
export type SanType = "otherName" | "rfc822" | "dns" | "uri";
export interface San {
  type: SanType;
  value: string;
}

/** Microsoft User Principal Name, the otherName Apple calls ntPrincipalName. */
export const UPN_OID = "1.3.6.1.4.1.311.20.2.3";

const LABEL = /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$/;

/** A host name per RFC 1123 (letters, digits, hyphens; labels ≤ 63; total ≤ 253). No wildcards. */
export function isDnsName(value: string): boolean {
  if (value.length > 253) return false;
  return value.split(".").every((l) => LABEL.test(l));
}

const LOCAL = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

/** An RFC 5321 mailbox in ASCII (SAN rfc822Name is an IA5String): dot-atom local part @ host name. */
export function isEmail(value: string): boolean {
  if (value.length > 254) return false;
  const at = value.lastIndexOf("@");
  if (at < 1) return false;
  const local = value.slice(0, at);
  return local.length <= 64 && LOCAL.test(local) && isDnsName(value.slice(at + 1));
}

/** An absolute URI (RFC 3986 scheme ":" ...) in printable ASCII, as RFC 5280 §4.2.1.6 requires. */
export function isUri(value: string): boolean {
  if (value.length > 2048 || !/^[A-Za-z][A-Za-z0-9+.-]*:[\x21-\x7e]+$/.test(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

/** Why a SAN value cannot go into a certificate, or undefined when it can. */
export function sanError(san: San): string | undefined {
  const v = san.value;
  switch (san.type) {
    case "otherName":
      return v.length > 256 || /[\x00-\x1f\x7f]/.test(v) ? `Other Name is not a valid user principal name: "${v}"` : undefined;
    case "rfc822":
      return isEmail(v) ? undefined : `RFC822 is not a valid email address: "${v}"`;
    case "dns":
      return isDnsName(v) ? undefined : `DNS is not a valid host name: "${v}"`;
    case "uri":
      return isUri(v) ? undefined : `URI is not a valid absolute URI: "${v}"`;
  }
}

const JSON_TYPE: Record<SanType, x509.GeneralNameType> = { otherName: "upn", rfc822: "email", dns: "dns", uri: "url" };

export function sanExtension(sans: San[], critical = false): x509.SubjectAlternativeNameExtension {
  return new x509.SubjectAlternativeNameExtension(
    sans.map((s) => ({ type: JSON_TYPE[s.type], value: s.value })),
    critical,
  );
}

/** sanExtension(sans, critical) as DER (the same bytes as its rawData). */
export function sanExtensionDer(sans: San[], critical = false): Buffer {
  const names = sans.map((s) => {
    switch (s.type) {
      case "otherName":
        return tlv(0xa0, oid(UPN_OID), tlv(0xa0, tlv(0x0c, utf8(s.value))));
      case "rfc822":
        return tlv(0x81, latin1(s.value));
      case "dns":
        return tlv(0x82, latin1(s.value));
      case "uri":
        return tlv(0x86, latin1(s.value));
      default:
        throw new Error(`unknown SAN type ${(s as { type: string }).type}`);
    }
  });
  return sequence(oid("2.5.29.17"), ...(critical ? [BOOLEAN_TRUE] : []), octetString(sequence(...names)));
}

/** SAN values of a CSR as the template context names them (`/csr/san/...`). */
export interface CsrSans {
  othername: string[];
  rfc822name: string[];
  dnsname: string[];
  uri: string[];
  ipaddress: string[];
}

/** Reads a subjectAltName extension value (DER). Unknown name forms are skipped, not fatal. */
export function parseSans(extnValue: BufferSource): CsrSans {
  const out: CsrSans = { othername: [], rfc822name: [], dnsname: [], uri: [], ipaddress: [] };
  for (const gn of AsnConvert.parse(extnValue, SubjectAlternativeName)) {
    if (gn.rfc822Name !== undefined) out.rfc822name.push(gn.rfc822Name);
    else if (gn.dNSName !== undefined) out.dnsname.push(gn.dNSName);
    else if (gn.uniformResourceIdentifier !== undefined) out.uri.push(gn.uniformResourceIdentifier);
    else if (gn.iPAddress !== undefined) out.ipaddress.push(gn.iPAddress);
    else if (gn.otherName?.typeId === UPN_OID) {
      const inner = asn1js.fromBER(gn.otherName.value).result;
      if (inner instanceof asn1js.Utf8String) out.othername.push(inner.getValue());
    }
  }
  return out;
}
