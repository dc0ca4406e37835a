/**
 * The bank channel as a folder: a released file appears under its final name exactly once, whole
 * or not at all (temp file + fsync + hard link, which never overwrites), so a retry after a crash
 * finds it instead of writing a second one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, link, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Where released payment files go: a folder per bank (SFTP adapters implement the same shape). */
export interface PaymentFileChannel {
  /** A printable location, e.g. the folder path. */
  readonly location: string;
  /** Writes `name` atomically unless a file of that name exists; `written: false` means it was already there. */
  deliver(name: string, content: string): Promise<{ written: boolean; path: string }>;
  /** The content of `name`, or undefined when it is not (or no longer) in the channel. */
  read(name: string): Promise<string | undefined>;
  /** Removes `name` before the bank takes it; false when it is already gone. */
  withdraw(name: string): Promise<boolean>;
}

function isCode(e: unknown, code: string): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === code;
}

async function fsyncPath(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Opens the folder channel at `dir` (created on first delivery). */
export function createFolderChannel(dir: string): PaymentFileChannel {
  return {
    location: dir,
    async deliver(name, content) {
      await mkdir(dir, { recursive: true });
      const path = join(dir, name);
      // Dot-prefixed so bank pick-up jobs, which skip hidden files, never see a half-written file.
      const temp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(content, 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        // link() fails with EEXIST instead of replacing: two writers can never both "win".
        await link(temp, path);
      } catch (e) {
        if (!isCode(e, 'EEXIST')) throw e;
        return { written: false, path };
      } finally {
        await unlink(temp);
      }
      await fsyncPath(dir);
      return { written: true, path };
    },
    async read(name) {
      try {
        return await readFile(join(dir, name), 'utf8');
      } catch (e) {
        if (isCode(e, 'ENOENT')) return undefined;
        throw e;
      }
    },
    async withdraw(name) {
      try {
        await unlink(join(dir, name));
        await fsyncPath(dir);
        return true;
      } catch (e) {
        if (isCode(e, 'ENOENT')) return false;
        throw e;
      }
    },
  };
}
