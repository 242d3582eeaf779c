// The error vocabulary of every package, converted once at each edge: REST ({error, field}), server
// actions (form state) and ACME (problem documents). A leaf package: it imports nothing.
export * from "./domain";
export * from "./pki";
export * from "./attestation";
