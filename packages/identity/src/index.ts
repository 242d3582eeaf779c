export * from "./schemas";
export * from "./actor";
export * from "./users";
export * from "./tokens";
export * from "./bootstrap";
export { generatePassword, hashPassword } from "./passwords";
export * from "./second-factor";
export * from "./sso";
