export { startKandjiSimulator, type KandjiSimulator, type KandjiSimulatorOptions } from "./server";
export {
  SimulatorState,
  SimInputError,
  KandjiValidationError,
  type CustomProfile,
  KANDJI_RATE_LIMIT,
  NO_FAULTS,
  type Faults,
  type FaultsPatch,
  type RateLimit,
  type RequestLogEntry,
} from "./state";
export {
  PLATFORMS,
  deviceDetails,
  deviceInputSchema,
  seedSchema,
  type Blueprint,
  type BlueprintInput,
  type DeviceInput,
  type DevicePatch,
  type KandjiDevice,
  type KandjiUser,
  type Platform,
  type Seed,
  type SimDevice,
} from "./model";
export { FILTERS, MAX_LIMIT } from "./query";
