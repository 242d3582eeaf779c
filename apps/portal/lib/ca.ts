import type { CaContext } from "@attested/ca";
import { services } from "../server/services";

/** The CA service context of this process (one key store, so unsealed keys are cached once; one OCSP cache). */
export async function caContext(): Promise<CaContext> {
  return (await services()).ca;
}
