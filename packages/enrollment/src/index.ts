export { createAcmeService, type AcmeServiceOptions } from "./service";
export { deviceAttestValidator } from "./attest";
export { issueHook, type EnrollmentMetrics, type IssueDeps } from "./issue";
