/** Test helpers: where the shared bank fixtures live, read in place (never copied). */

/** Absolute path (with trailing slash) of ../shared/fixtures/<kind>/ seen from the repository root. */
export function fixtureDir(kind: string): string {
  return decodeURIComponent(new URL(`../../../../shared/fixtures/${kind}/`, import.meta.url).pathname);
}

/** The statement files of one fixture kind, without the source projects' expected-result .json files. */
export function listFixtures(kind: string, readdir: (path: string) => string[]): string[] {
  return readdir(fixtureDir(kind))
    .filter((f) => !f.endsWith('.json'))
    .sort();
}
