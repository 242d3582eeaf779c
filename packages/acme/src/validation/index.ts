export { createHttp01Validator, type Http01Options } from "./http01";
export { createDns01Validator, dns01Digest, type Dns01Options, type TxtResolver } from "./dns01";
