// The server's ATTESTATION_TEST_ROOTS setting, handed over at start (the demo and the tests turn it on).
// A module of its own, importing nothing, so the test setup can turn it on cheaply.

let testRoots = false;

export function setTestRoots(enabled: boolean): void {
  testRoots = enabled;
}

/** Test roots count only on a server started with ATTESTATION_TEST_ROOTS=1 (the demo and the tests). */
export const testRootsEnabled = () => testRoots;
