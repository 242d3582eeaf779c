import type { Db } from "@attested/db";

// The policy engine's contract (implemented by @attested/policy). The glue depends on this shape only,
// so enrollment works with platform defaults when no Enrollment Policy exists.

export interface EnrollmentRequest {
  platform: { id: string; name: string; vendor: string };
  /** The Key Attestation Platform whose roots verified the attestation (null for non-attested orders). */
  keyAttestationPlatformId: string | null;
  attestation: Record<string, unknown>;
  csr: Record<string, unknown>;
  account: { id: string; contact: string[] };
}

export type EnrollmentDecision =
  | {
      allowed: true;
      policy: { id: string; name: string; priority: number };
      caId: string;
      templateId: string;
      device: Record<string, unknown>;
      groups: string[];
      inputs: Record<string, unknown>;
    }
  | { allowed: false; code: string; reason: string; inputs: Record<string, unknown> };

export interface PolicyEngine {
  hasEnrollmentPolicies(db: Db): Promise<boolean>;
  decideEnrollment(db: Db, req: EnrollmentRequest): Promise<EnrollmentDecision>;
}
