/**
 * An exclusive lock on the embedded data directory. PGlite has no lock between processes, and
 * two writers would corrupt it, so the owner writes its pid into `kontor.lock` (created with
 * O_EXCL). A lock whose process is gone (kill -9, power loss) is taken over.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AppError, ErrorCodes } from '../domain/index.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Holds the lock until `release` is called; throws DATA_DIR_LOCKED while another live process holds it. */
export function lockDataDir(dir: string): { release(): void } {
  const path = join(dir, 'kontor.lock');
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
          } catch {
            // Already gone: nothing to release.
          }
        },
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
      } catch {
        continue; // removed between our open and read: try again
      }
      if (Number.isInteger(owner) && isAlive(owner)) {
        throw new AppError(
          ErrorCodes.DATA_DIR_LOCKED,
          `the data directory ${dir} is in use by another Kontor process (pid ${owner}); stop it first, or set KONTOR_DATA_DIR to another directory`,
          { details: { pid: owner, dir } },
        );
      }
      // Stale lock of a process that is gone: take it over.
      try {
        unlinkSync(path);
      } catch {
        // Someone else removed it first.
      }
    }
  }
  throw new AppError(ErrorCodes.DATA_DIR_LOCKED, `could not lock the data directory ${dir}`);
}
