/** Test helpers: where the shared bank fixtures live, read in place (never copied). */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of ../shared/fixtures/<kind>/ seen from the repository root. */
export function fixtureDir(kind: string): string {
  return fileURLToPath(new URL(`../../../../shared/fixtures/${kind}/`, import.meta.url));
}

/** The statement files of one fixture kind (the source projects' expected-result .json files left out). */
export function listFixtures(kind: string): string[] {
  return readdirSync(fixtureDir(kind))
    .filter((f) => !f.endsWith('.json'))
    .sort();
}
