export * from "./options";
export * from "./schemas";
export { resolveIdentity, contextWith, identityVariables } from "./context";
export { evaluateCondition, evaluateConditions, describeCondition, type ConditionResult } from "./conditions";
export {
  attestedPosture,
  compareVersions,
  describePostureCondition,
  evaluatePosture,
  evaluatePostureCondition,
  type AttestedPosture,
  type PostureResult,
} from "./posture";
export * from "./core-platforms";
export * from "./signal-sources";
export * from "./workflows";
export * from "./device-roles";
export * from "./enrollment-policies";
export {
  applyEnrollmentEffects,
  decideEnrollment,
  decideWith,
  evaluateEnrollment,
  hasEnrollmentPolicies,
  pickSignalSource,
  type DecideOptions,
  type DecisionInput,
  type DecisionStep,
  type DenialCode,
  type EnrollmentConfig,
  type EnrollmentDecision,
  type EnrollmentEffects,
  type EnrollmentRequest,
  type LookupNeeded,
  type LookupRecord,
} from "./engine";
export { revokeOnFailure, type RevokedOnFailure } from "./revoke";
export { authorizeRadius, certificateContext, recordRadiusRefusal, type RadiusDecision } from "./radius";
export * from "./api-schemas";
export { gettingStarted, DENIAL_REASONS, type SetupStep } from "./getting-started";
