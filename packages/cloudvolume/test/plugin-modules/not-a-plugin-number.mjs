// Test fixture: a default export that is not a plugin.
export default 42;
