// Test fixture: the plugin factory itself as the default export (a common slip).
import { aliasPlugin } from "./alias-storage.mjs";

export default function aliasFactory() {
  return aliasPlugin("alias", "CV_ALIAS_ROOT");
}
