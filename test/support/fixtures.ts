/**
 * Test data in two places: the fixtures this repository carries (`test/fixtures/<kind>/`, each
 * file listed with its source and licence in `test/fixtures/PROVENANCE.md`), and the optional wider
 * corpus outside it (`KONTOR_CORPUS_DIR`, default `../shared/fixtures` when that folder exists).
 * Every capability keeps a test on the first; tests that walk the corpus skip with a reason when it
 * is absent.
 */
import { existsSync, readdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Absolute path of an in-repository fixture: `test/fixtures/<kind>/<name>`. */
export function fixturePath(kind: string, name: string): string {
  return join(repoRoot, 'test', 'fixtures', kind, name);
}

/** Absolute path of an in-repository fixture folder: `test/fixtures/<kind>/`. */
export function fixtureDir(kind: string): string {
  return join(repoRoot, 'test', 'fixtures', kind);
}

/** The wider corpus folder, or undefined when it is not on this machine. */
export function corpusDir(): string | undefined {
  const configured = process.env.KONTOR_CORPUS_DIR;
  if (configured) {
    const dir = isAbsolute(configured) ? configured : resolve(repoRoot, configured);
    return existsSync(dir) ? dir : undefined;
  }
  const beside = resolve(repoRoot, '..', 'shared', 'fixtures');
  return existsSync(beside) ? beside : undefined;
}

/**
 * For node:test's `skip` option: false when the corpus is present, else the reason a test that
 * walks it is skipped.
 */
export function corpusSkip(): string | false {
  return corpusDir()
    ? false
    : 'the wider fixture corpus is absent (set KONTOR_CORPUS_DIR, or keep ../shared/fixtures beside the checkout)';
}

/** Absolute path of a corpus file; throws when the corpus is absent (guard the test with corpusSkip()). */
export function corpusPath(kind: string, name: string): string {
  const dir = corpusDir();
  if (!dir) throw new Error(`corpus file ${kind}/${name} needed, but ${String(corpusSkip())}`);
  return join(dir, kind, name);
}

/** The file names of one corpus kind (sorted; the source projects' expected-result .json files left out), or [] without the corpus. */
export function listCorpus(kind: string): string[] {
  const dir = corpusDir();
  if (!dir || !existsSync(join(dir, kind))) return [];
  return readdirSync(join(dir, kind))
    .filter((f) => !f.endsWith('.json'))
    .sort();
}
