export * from "./fixtures.js";
export * from "./kv-store.js";
export * from "./codec.js";
export * from "./format.js";
