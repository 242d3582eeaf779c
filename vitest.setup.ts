import "reflect-metadata";

// Simulated devices attest with the simulator's root, a test root; tests of the setting itself turn it off.
process.env.ATTESTATION_TEST_ROOTS ??= "1";
