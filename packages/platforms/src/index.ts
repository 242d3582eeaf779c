export * from "./options";
export * from "./schemas";
export * from "./mobileconfig";
export * from "./device-management";
export * from "./key-attestation";
export * from "./network";
export * from "./publish";
