import "reflect-metadata";
import { setTestRoots } from "./packages/platforms/src/test-roots";

// Simulated devices attest with the simulator's root, a test root; tests of the setting itself turn it off.
setTestRoots(true); // ATTESTATION_TEST_ROOTS=1, as the server hands it over
