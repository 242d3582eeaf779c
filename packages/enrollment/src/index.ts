export { createAcmeService, type AcmeServiceOptions } from "./service";
export { deviceAttestValidator } from "./attest";
export { issueHook, type IssueDeps } from "./issue";
