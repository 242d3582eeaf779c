export * from "./options";
export * from "./schemas";
export { resolveIdentity, contextWith, identityVariables } from "./context";
export { evaluateCondition, evaluateConditions, describeCondition, type ConditionResult } from "./conditions";
export * from "./core-platforms";
export * from "./signal-sources";
export * from "./workflows";
export * from "./device-roles";
export * from "./enrollment-policies";
export {
  decideEnrollment,
  hasEnrollmentPolicies,
  pickSignalSource,
  type DecideOptions,
  type DenialCode,
  type EnrollmentDecision,
  type EnrollmentRequest,
} from "./engine";
export { revokeOnFailure, type RevokedOnFailure } from "./revoke";
export { authorizeRadius, certificateContext, type RadiusDecision } from "./radius";
export * from "./api-schemas";
