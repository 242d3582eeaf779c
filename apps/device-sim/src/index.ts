export { CA_FILES, SIMULATED_ROOT_NAME, SIMULATED_SUB_CA_NAME, SimulatedAppleCa, type CaPair, type CreateSimulatedCaOptions } from "./apple-ca";
export { FORGERIES, buildAttestation, isForgery, type BuildAttestationArgs, type Forgery } from "./attestation";
export {
  DEVICE_DEFAULTS,
  createDeviceKey,
  generateDevices,
  udidForSerial,
  type DeviceKey,
  type DeviceKeySpec,
  type KeyType,
  type SimulatedDevice,
} from "./device";
export {
  INTUNE_VARIABLES,
  JAMF_VARIABLES,
  KANDJI_VARIABLES,
  ProfileError,
  parseMobileconfig,
  renderMobileconfig,
  substituteInPlist,
  substituteVariables,
  type AcmePayload,
  type Mdm,
  type MobileConfig,
  type NetworkPayload,
  type ProfileCertificate,
  type SubjectAltNames,
} from "./profile";
export { buildCsr, keyUsageFromFlags, subjectToJsonName } from "./csr";
export {
  AcmeClient,
  AcmeClientError,
  parseRetryAfter,
  type AcmeAuthorization,
  type AcmeChallenge,
  type AcmeClientOptions,
  type AcmeDirectory,
  type AcmeIdentifier,
  type AcmeOrder,
  type AcmeProblem,
  type Fetch,
} from "./acme-client";
export { enroll, prepareDevice, splitPemChain, type EnrollOptions, type EnrollResult, type EnrollTimings, type PreparedDevice } from "./enroll";
export { percentile, prepareDevices, runFleet, type FleetOptions, type FleetResult } from "./fleet";
export { createDeviceFetch, type DeviceFetchOptions } from "./http";
