// Test fixture: a module that throws while it is imported.
throw new Error("plugin module exploded on purpose");
