// Test fixture: named exports only, none of them `plugins`.
export const helper = 1;
export function makePlugin() {
  return undefined;
}
