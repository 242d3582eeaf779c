export { AcmeServer, DEFAULT_MAX_BODY_BYTES } from "./server";
export type { AcmeRequest, AcmeResponse, AcmeServerOptions, HeadersLike } from "./server";
export { handleWebRequest, readBodyLimited, toWebResponse } from "./web";
export {
  AcmeProblem,
  ACME_ERROR_PREFIX,
  PROBLEM_CONTENT_TYPE,
  PROBLEM_TYPES,
  httpProblem,
  isProblemType,
  problem,
  toProblem,
} from "./problems";
export type { ProblemDocument, ProblemIdentifier, ProblemOptions, ProblemType } from "./problems";
export type {
  AcmeStore,
  AuthorizationPatch,
  ChallengePatch,
  KeyChangeResult,
  NewAccount,
  NewAuthorization,
  NewOrder,
  OrderPatch,
} from "./store";
export { SqlAcmeStore } from "./sql-store";
export type { Sql } from "./sql-store";
export { PlatformUrls, redactAcmePath } from "./urls";
export { normalizeIp } from "./identifiers";
export { SUPPORTED_ALGORITHMS } from "./jws";
export { SUBSCRIBER_REVOCATION_REASONS } from "./resources/revoke";
export { createDns01Validator, createHttp01Validator, dns01Digest } from "./validation";
export type { Dns01Options, Http01Options, TxtResolver } from "./validation";
export * from "./types";
