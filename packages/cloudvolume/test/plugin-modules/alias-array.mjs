// Test fixture: an array default export (two storage plugins).
import { aliasPlugin } from "./alias-storage.mjs";

export default [aliasPlugin("first", "CV_FIRST_ROOT"), aliasPlugin("second", "CV_SECOND_ROOT")];
