export * from "./fixtures.js";
export * from "./kv-store.js";
export * from "./codec.js";
