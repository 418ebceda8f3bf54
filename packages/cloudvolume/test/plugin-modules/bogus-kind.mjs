// Test fixture: an object with an unknown kind.
export default { kind: "bogus", names: ["x"], package: "bogus", async load() { return {}; } };
