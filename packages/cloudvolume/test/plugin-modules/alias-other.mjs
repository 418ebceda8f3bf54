// Test fixture: another plugin for `alias://`, rooted at $CV_OTHER_ROOT (precedence tests).
import { aliasPlugin } from "./alias-storage.mjs";

export default aliasPlugin("alias", "CV_OTHER_ROOT");
