import type { Db } from "@attested/db";
import { EventType } from "@attested/events";

/** One step of the admin guide (docs/guide.md), done or not, read from what is stored. */
export interface SetupStep {
  id: string;
  /** The guide's section title. */
  label: string;
  /** What "done" means, for the admin. */
  hint: string;
  done: boolean;
  /** Where to do it (or, once done, where to see it). */
  href: string;
}

/** The guide's steps in its order, each ticked from the database, never from a flag an admin sets. */
export async function gettingStarted(db: Db): Promise<SetupStep[]> {
  const [ca, template, platform, core, kap, sss, workflow, role, enrollment, profile, certificate] = await Promise.all([
    db.certificateAuthority.count({ where: { type: "INTERMEDIATE" } }),
    db.certificateTemplate.count(),
    db.deviceManagementPlatform.findFirst({ select: { id: true }, orderBy: { createdAt: "asc" } }),
    db.corePlatform.count({ where: { type: "generic-http" } }),
    db.keyAttestationPlatform.count(),
    db.securitySignalSource.count(),
    db.policyWorkflow.count(),
    db.deviceRole.count(),
    db.enrollmentPolicy.count(),
    db.event.findFirst({ select: { id: true }, where: { type: EventType.ProfileDownloaded } }),
    db.certificate.count(),
  ]);
  const step = (id: string, label: string, hint: string, done: boolean, todo: string, list: string = todo.replace(/\/new$/, "")): SetupStep => ({
    id,
    label,
    hint,
    done,
    href: done ? list : todo,
  });
  const platformPage = platform ? `/integration-hub/device-management-platforms/${platform.id}` : "/integration-hub/device-management-platforms/new";
  return [
    step("intermediate-ca", "Create an Intermediate CA", "An intermediate CA under the default Root CA", ca > 0, "/dynamic-pki/certificate-authorities/new"),
    step(
      "certificate-template",
      "Create a Certificate Template",
      "The subject and SANs of the devices' certificates",
      template > 0,
      "/dynamic-pki/certificate-templates/new",
      "/dynamic-pki/certificate-authorities",
    ),
    step(
      "device-management-platform",
      "Create an ACME Device Management Platform",
      "Its Save downloads the .mobileconfig for Kandji",
      platform !== null,
      "/integration-hub/device-management-platforms/new",
    ),
    step(
      "core-platform",
      "Create a Generic HTTP Signal Source",
      "A Core Platform that looks devices up in Kandji",
      core > 0,
      "/integration-hub/core-platforms/new",
    ),
    step(
      "key-attestation-platform",
      "Create a Key Attestation Platform",
      "Trusts Apple's attestation root",
      kap > 0,
      "/integration-hub/key-attestation-platforms/new",
    ),
    step(
      "security-signal-source",
      "Create a Security Signal Source",
      "The lookup at Certificate Issuance",
      sss > 0,
      "/policy-management/security-signal-sources/new",
    ),
    step("policy-workflow", "Create a Policy Workflow", "Which looked-up devices qualify", workflow > 0, "/policy-management/policy-workflows/new"),
    step("device-role", "Create a Device Role", "Which Key Attestation Platform vouches for the device", role > 0, "/policy-management/device-role/new"),
    step("enrollment-policy", "Create an Enrollment Policy", "The CA and template a matching device gets", enrollment > 0, "/policy-management/enrollment/new"),
    step(
      "configure-kandji",
      "Configure Kandji",
      "Download the platform's profile and add it to a Blueprint as a Custom profile",
      profile !== null,
      platformPage,
      platformPage,
    ),
    step(
      "certificate-issuance",
      "Certificate Issuance",
      "A managed device enrolls and gets its certificate",
      certificate > 0,
      "/data-and-monitoring/general-events?type=Enrollment+Denied",
      "/dynamic-pki/certificates",
    ),
  ];
}

/** Why an enrollment was denied, as the auditor's landing names each code; others are shown as they are. */
export const DENIAL_REASONS: Record<string, string> = {
  noPolicy: "No Enrollment Policy applies",
  deviceNotFound: "Device not found",
  lookupFailed: "Lookup failed",
  mdmUnavailable: "MDM unavailable",
  conditionsNotMet: "Conditions not met",
  misconfigured: "Enrollment Policy incomplete",
  publicKeyMismatch: "CSR key is not the attested key",
  badCSR: "Bad CSR",
};
