// What tests (and benchmarks) of ACME code use: never imported by the production entry point.
export { MemoryStore } from "./memory-store";
