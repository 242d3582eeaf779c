import { latin1, oid, sequence, tlv, utf8 } from "@attested/der";
import { x509 } from "./provider";
import { isEmail, isDnsName } from "./san";

// Distinguished names: RFC 4514 strings <-> X.509 Names, with the RFC 5280 Appendix A upper bounds.
// Attributes are kept in the order written, which is the DER order (as OpenSSL's -subj and
// @peculiar/x509 do), so `openssl x509 -subject` shows them the way the admin typed them.
// Multi-valued RDNs ("+") are not supported: nothing in this product needs them.

interface AttributeSpec {
  short: string;
  oid: string;
  aliases: string[];
  max: number;
  charset?: "printable" | "ia5";
}

const SPECS: AttributeSpec[] = [
  { short: "CN", oid: "2.5.4.3", aliases: ["commonName"], max: 64 },
  { short: "SN", oid: "2.5.4.4", aliases: ["surname"], max: 64 },
  { short: "SERIALNUMBER", oid: "2.5.4.5", aliases: ["serialNumber"], max: 64, charset: "printable" },
  { short: "C", oid: "2.5.4.6", aliases: ["countryName", "country"], max: 2, charset: "printable" },
  { short: "L", oid: "2.5.4.7", aliases: ["localityName", "locality"], max: 128 },
  { short: "ST", oid: "2.5.4.8", aliases: ["stateOrProvinceName", "state", "S"], max: 128 },
  { short: "STREET", oid: "2.5.4.9", aliases: ["streetAddress"], max: 128 },
  { short: "O", oid: "2.5.4.10", aliases: ["organizationName", "organization"], max: 64 },
  { short: "OU", oid: "2.5.4.11", aliases: ["organizationalUnitName", "organizationalUnit"], max: 64 },
  { short: "T", oid: "2.5.4.12", aliases: ["title"], max: 64 },
  { short: "POSTALCODE", oid: "2.5.4.17", aliases: ["postalCode"], max: 40 },
  { short: "GN", oid: "2.5.4.42", aliases: ["givenName", "G"], max: 64 },
  { short: "INITIALS", oid: "2.5.4.43", aliases: ["initials", "I"], max: 64 },
  { short: "DNQUALIFIER", oid: "2.5.4.46", aliases: ["dnQualifier"], max: 64, charset: "printable" },
  { short: "PSEUDONYM", oid: "2.5.4.65", aliases: [], max: 128 },
  { short: "UID", oid: "0.9.2342.19200300.100.1.1", aliases: ["userId"], max: 256 },
  { short: "DC", oid: "0.9.2342.19200300.100.1.25", aliases: ["domainComponent"], max: 63, charset: "ia5" },
  { short: "E", oid: "1.2.840.113549.1.9.1", aliases: ["emailAddress", "email"], max: 255, charset: "ia5" },
];

const byName = new Map<string, AttributeSpec>();
for (const s of SPECS) for (const n of [s.short, s.oid, ...s.aliases]) byName.set(n.toLowerCase(), s);

const OID = /^[0-2](\.(0|[1-9][0-9]*))+$/;

/** One attribute of a subject, one per RDN. `type` is the short name (or the OID when we have none). */
export interface DnAttribute {
  type: string;
  oid: string;
  value: string;
}

export function attributeSpec(type: string): AttributeSpec | undefined {
  return byName.get(type.trim().toLowerCase());
}

/** Context keys for a subject attribute: its short name and aliases (`/csr/subject/commonname`, `/csr/subject/cn`). */
export function attributeKeys(oid: string): string[] {
  const s = byName.get(oid);
  return s ? [s.aliases[0] ?? s.short, s.short, ...s.aliases.slice(1)] : [oid];
}

/** A raw attribute of a DN string: its type as written and its value, still escaped. */
export interface RawAttribute {
  type: string;
  rawValue: string;
}

/**
 * Splits a DN string on unescaped commas. `${...}` blocks are opaque (template variables), so the
 * same scanner serves both templates and plain DNs.
 */
export function splitDn(text: string): { attributes: RawAttribute[]; error?: string } {
  const parts: string[] = [];
  let cur = "";
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === "\\") {
      if (i + 1 >= text.length) return { attributes: [], error: "The Subject ends with a lone backslash" };
      cur += ch + text[++i];
    } else if (ch === "$" && text[i + 1] === "{") {
      const end = text.indexOf("}", i);
      if (end < 0) return { attributes: [], error: `Unclosed "\${" at position ${i + 1}` };
      cur += text.slice(i, end + 1);
      i = end;
    } else if (ch === ",") {
      parts.push(cur);
      cur = "";
    } else if (ch === "+") {
      return { attributes: [], error: 'Multi-valued RDNs ("+") are not supported; write \\+ for a literal plus sign' };
    } else cur += ch;
  }
  parts.push(cur);
  const attributes: RawAttribute[] = [];
  for (const part of parts) {
    const eq = part.indexOf("=");
    const type = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (eq < 0 || !type) {
      return { attributes: [], error: `"${part.trim()}" is not of the form TYPE=value (e.g. CN=\${/csr/subject/commonname})` };
    }
    if (!attributeSpec(type) && !OID.test(type)) {
      return { attributes: [], error: `Unknown attribute type "${type}": use CN, O, OU, C, L, ST, E, DC, SERIALNUMBER, UID, ... or an OID` };
    }
    attributes.push({ type, rawValue: trimUnescaped(part.slice(eq + 1)) });
  }
  return { attributes };
}

function trimUnescaped(raw: string): string {
  let s = raw.replace(/^\s+/, "");
  while (/\s$/.test(s) && !/(^|[^\\])(\\\\)*\\\s$/.test(s)) s = s.slice(0, -1);
  return s;
}

/** Resolves RFC 4514 escapes: `\,` and friends, and `\hh` hex pairs (UTF-8 bytes). */
export function unescapeDnValue(raw: string): string {
  const bytes: number[] = [];
  const out: string[] = [];
  const flush = () => {
    if (bytes.length) out.push(Buffer.from(bytes.splice(0)).toString("utf8"));
  };
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch === "\\" && i + 1 < raw.length) {
      const hex = raw.slice(i + 1, i + 3);
      if (/^[0-9a-fA-F]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
      flush();
      out.push(raw[++i]);
    } else {
      flush();
      out.push(ch);
    }
  }
  flush();
  return out.join("");
}

/** RFC 4514 §2.4 escaping of one attribute value. */
export function escapeDnValue(value: string): string {
  return value
    .replace(/[\\,+"<>;=]/g, (c) => `\\${c}`)
    .replace(/^[#\s]/, (c) => `\\${c}`)
    .replace(/\s$/, (c) => `\\${c}`)
    .replace(/[\x00-\x1f\x7f]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

export function formatDn(attributes: DnAttribute[]): string {
  return attributes.map((a) => `${a.type}=${escapeDnValue(a.value)}`).join(", ");
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** Builds a DnAttribute from a type as written and a final value, or says why it is not valid. */
export function makeAttribute(type: string, value: string): { attribute?: DnAttribute; error?: string } {
  const spec = attributeSpec(type);
  const oid = spec?.oid ?? type.trim();
  const name = spec?.short ?? oid;
  if (!OID.test(oid)) return { error: `Unknown attribute type "${type}"` };
  if (!value) return { error: `${name} is empty` };
  if (/[\x00-\x1f\x7f]/.test(value)) return { error: `${name} contains control characters` };
  if (name === "C" && !/^[A-Z]{2}$/.test(value)) return { error: `C must be a two-letter country code such as US, not "${value}"` };
  const max = spec?.max ?? 128;
  if ([...value].length > max) return { error: `${name} is longer than ${max} characters` };
  if (spec?.charset === "printable" && !PRINTABLE.test(value)) return { error: `${name} may only hold letters, digits, spaces and '()+,-./:=?` };
  if (name === "E" && !isEmail(value)) return { error: `E is not a valid email address: "${value}"` };
  if (name === "DC" && !isDnsName(value)) return { error: `DC must be a DNS label, not "${value}"` };
  return { attribute: { type: name, oid, value } };
}

/** Parses a plain DN string (no variables), e.g. the Subject typed for a CA. */
export function parseDn(text: string): { attributes: DnAttribute[]; errors: string[] } {
  const { attributes: raw, error } = splitDn(text);
  if (error) return { attributes: [], errors: [error] };
  const attributes: DnAttribute[] = [];
  const errors: string[] = [];
  for (const r of raw) {
    const { attribute, error: e } = makeAttribute(r.type, unescapeDnValue(r.rawValue));
    if (attribute) attributes.push(attribute);
    else errors.push(e!);
  }
  return { attributes, errors };
}

/** The X.509 Name: PrintableString where it fits, IA5String for E and DC, else UTF8String (RFC 5280 §4.1.2.6). */
export function toX509Name(attributes: DnAttribute[]): x509.Name {
  return new x509.Name(
    attributes.map((a) => {
      const spec = byName.get(a.oid);
      const value = spec?.charset === "ia5" ? { ia5String: a.value } : PRINTABLE.test(a.value) ? { printableString: a.value } : { utf8String: a.value };
      return { [a.oid]: [value] };
    }),
  );
}

/** toX509Name's Name, DER-encoded directly (same string types, same bytes as its serialization). */
export function toX509NameDer(attributes: DnAttribute[]): Buffer {
  return sequence(
    ...attributes.map((a) => {
      const spec = byName.get(a.oid);
      const value = spec?.charset === "ia5" ? tlv(0x16, latin1(a.value)) : PRINTABLE.test(a.value) ? tlv(0x13, latin1(a.value)) : tlv(0x0c, utf8(a.value));
      return tlv(0x31, sequence(oid(a.oid), value));
    }),
  );
}

/** Reads the attributes of an X.509 Name (a certificate's or a CSR's subject). */
export function fromX509Name(name: x509.Name): DnAttribute[] {
  const out: DnAttribute[] = [];
  for (const rdn of name.toJSON()) {
    for (const [type, values] of Object.entries(rdn)) {
      for (const value of values) out.push(attributeFromJsonType(type, value));
    }
  }
  return out;
}

/** One attribute as fromX509Name reads it, from the type x509.Name#toJSON names it by (short name or OID). */
function attributeFromJsonType(type: string, value: string): DnAttribute {
  const oid = attributeSpec(type)?.oid ?? type;
  return { type: byName.get(oid)?.short ?? type, oid, value };
}

const jsonTypes = new Map<string, string>();
/** The attribute fromX509Name gives for an attribute of type `oid` (dotted) and string value `value`. */
export function attributeFromOid(oid: string, value: string): DnAttribute {
  let type = jsonTypes.get(oid);
  if (type === undefined) {
    // The name x509.Name#toJSON gives this type (its short name, else the OID), learnt once per type.
    type = Object.keys(new x509.Name([{ [oid]: ["x"] }]).toJSON()[0] ?? {})[0] ?? oid;
    if (jsonTypes.size < 1024) jsonTypes.set(oid, type);
  }
  return attributeFromJsonType(type, value);
}
