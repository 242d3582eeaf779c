import { readFileSync } from "node:fs";

/** A real Apple attestation leaf (expired, its Sub CA is not public): for parsing tests only
 * (docs/protocol.md#reference-files). */
export const REAL_LEAF_PEM = readFileSync(new URL("../../test-data/real-attestation-leaf-2025-07.pem", import.meta.url), "utf8");
