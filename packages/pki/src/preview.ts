import type { San } from "./san";
import { EXTENDED_KEY_USAGES, ekuOid, templateInputSchema, templateNotAfter } from "./template-schema";
import { renderTemplate, type RenderResult, type TemplateContext } from "./template";
import type { DnAttribute } from "./dn";
import { type PkiFieldError, invalidInput } from "@attested/errors";

/**
 * A realistic enrollment for the portal's Preview button: an iPhone on iOS 17.4 enrolled through a
 * Kandji ACME profile (Subject CN=$SERIAL_NUMBER, RFC822 $EMAIL), attested by Apple, looked up in Kandji.
 */
export const SAMPLE_CONTEXT: TemplateContext = {
  csr: {
    subject: { commonName: "F4GXK2Q1N72J", CN: "F4GXK2Q1N72J" },
    san: {
      othername: ["jane.appleseed@example.com"],
      rfc822name: ["jane.appleseed@example.com"],
      dnsname: [],
      uri: [],
      ipaddress: [],
    },
  },
  attestation: {
    serialNumber: "F4GXK2Q1N72J",
    udid: "00008120-001A2C3E0C7B401E",
    osVersion: "17.4",
    sepOsVersion: "17.4",
    llbVersion: "17.4",
    softwareUpdateDeviceId: "iPhone15,4",
    secureBootLevel: "Full Security",
  },
  device: {
    deviceId: "0c1f6e5a-6b5e-4d7b-9a4e-3f2b1c0d9e8f",
    deviceName: "Jane's iPhone",
    serialNumber: "F4GXK2Q1N72J",
    platform: "iPhone",
    model: "iPhone 15",
    osVersion: "17.4",
    blueprintName: "Corporate iPhones",
    email: "jane.appleseed@example.com",
    fullName: "Jane Appleseed",
    userDescription: "https://idp.example.com/users/jane.appleseed",
    groups: ["Engineering", "Wi-Fi Users"],
  },
  account: { id: "acct_3kq9b2", contact: ["mailto:jane.appleseed@example.com"] },
  platform: { id: "dmp_kandji", name: "Kandji ACME", vendor: "Kandji" },
};

/**
 * "Preview for a real device": `/device` is what the Core Platform answered for `serial` (its mapped
 * attributes, nothing else, as at issuance); the request's values are the sample's, with this serial
 * where the Kandji profile and Apple put it (Subject CN, attested serial number).
 */
export function deviceContext(serial: string, device: Record<string, unknown>): TemplateContext {
  return {
    ...SAMPLE_CONTEXT,
    csr: { ...SAMPLE_CONTEXT.csr, subject: { commonName: serial, CN: serial } },
    attestation: { ...SAMPLE_CONTEXT.attestation, serialNumber: serial },
    device: { ...device },
  };
}

export interface TemplatePreview {
  subject: DnAttribute[];
  subjectDn: string;
  sans: San[];
  extendedKeyUsages: { oid: string; label: string }[];
  notBefore: Date;
  notAfter: Date;
  /** Form errors and rendering errors together, each with its field. */
  errors: PkiFieldError[];
  /** What the template names that the sample device's certificate leaves out, and why. */
  omitted: RenderResult["omitted"];
}

/** Renders unsaved form input against a sample device, for the Preview button. Never throws on bad input. */
export function previewTemplate(input: unknown, sampleContext: TemplateContext = SAMPLE_CONTEXT, now = new Date()): TemplatePreview {
  const parsed = templateInputSchema.safeParse(input);
  const errors = parsed.success ? [] : invalidInput(parsed.error.issues).errors!;
  const raw = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const str = (k: string) => (typeof raw[k] === "string" ? (raw[k] as string) : "");
  const t = parsed.success
    ? parsed.data
    : { subject: str("subject"), sanOtherName: str("sanOtherName"), sanRfc822: str("sanRfc822"), sanDns: str("sanDns"), sanUri: str("sanUri") };
  const rendered = renderTemplate(t, sampleContext, { csrSans: parsed.success ? parsed.data.allowCsrSans : true });
  for (const e of rendered.errors) if (!errors.some((x) => x.field === e.field && x.message === e.message)) errors.push(e);
  const ekus = parsed.success ? parsed.data.extendedKeyUsages : [];
  const labels = EXTENDED_KEY_USAGES as Record<string, { label: string }>;
  return {
    subject: rendered.subject,
    subjectDn: rendered.subjectDn,
    sans: rendered.sans,
    extendedKeyUsages: ekus.map((e) => ({ oid: ekuOid(e), label: labels[e]?.label ?? e })),
    notBefore: now,
    notAfter: parsed.success ? templateNotAfter(parsed.data, now) : now,
    errors,
    omitted: rendered.omitted,
  };
}
