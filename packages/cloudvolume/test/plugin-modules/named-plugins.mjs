// Test fixture: no default export, a named export `plugins`.
import { aliasPlugin } from "./alias-storage.mjs";

export const plugins = [aliasPlugin("named", "CV_ALIAS_ROOT")];
