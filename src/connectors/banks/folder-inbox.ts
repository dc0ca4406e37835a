/**
 * The folder channel: a bank (or an SFTP sync) drops statement files into a folder; each file
 * is handed to a callback once and then moved to `processed/` or, with a `.error.json` beside
 * it, to `failed/`. Files still being written are left alone until their size stops changing.
 */
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  watch,
  writeFileSync,
  type FSWatcher,
} from 'node:fs';
import { basename, join } from 'node:path';

export interface FolderInboxOptions {
  dir: string;
  /** Processes one file; throwing moves it to failed/ with the error. */
  onFile(file: { path: string; name: string; content: Uint8Array }): Promise<void>;
  /** Rescan interval in ms (default 2000); fs.watch only makes the next scan come sooner. */
  intervalMs?: number;
  /** Describes a failure for the .error.json (default: name, code, message). */
  describeError?(error: unknown): Record<string, unknown>;
  now?: () => Date;
}

export interface FolderInbox {
  /** Scans once and processes every settled file; resolves when done. */
  scan(): Promise<number>;
  close(): Promise<void>;
}

function defaultDescribe(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const e = error as Error & { code?: unknown; details?: unknown };
    return { name: e.name, code: e.code, message: e.message, details: e.details };
  }
  return { message: String(error) };
}

function uniqueTarget(dir: string, name: string, now: Date): string {
  const target = join(dir, name);
  return existsSync(target) ? join(dir, `${now.toISOString().replace(/[:.]/g, '-')}-${name}`) : target;
}

/** Starts watching `dir` (creating it, processed/ and failed/). */
export function startFolderInbox(options: FolderInboxOptions): FolderInbox {
  const { dir } = options;
  const processed = join(dir, 'processed');
  const failed = join(dir, 'failed');
  for (const d of [dir, processed, failed]) mkdirSync(d, { recursive: true });
  const now = options.now ?? (() => new Date());
  const sizes = new Map<string, number>();
  let running: Promise<number> | undefined;
  let closed = false;

  const scanOnce = async (): Promise<number> => {
    let handled = 0;
    for (const name of readdirSync(dir).sort()) {
      if (closed) break;
      const path = join(dir, name);
      let st;
      try {
        st = statSync(path);
      } catch {
        continue;
      }
      if (!st.isFile() || name.startsWith('.') || name.endsWith('.part') || name.endsWith('.tmp')) continue;
      // A file is taken only when its size was the same at the previous scan: the writer is done.
      if (sizes.get(name) !== st.size) {
        sizes.set(name, st.size);
        continue;
      }
      sizes.delete(name);
      const content = readFileSync(path);
      try {
        await options.onFile({ path, name, content });
        renameSync(path, uniqueTarget(processed, name, now()));
      } catch (e) {
        const target = uniqueTarget(failed, name, now());
        renameSync(path, target);
        writeFileSync(
          `${target}.error.json`,
          `${JSON.stringify({ file: basename(target), at: now().toISOString(), error: (options.describeError ?? defaultDescribe)(e) }, null, 2)}\n`,
        );
      }
      handled++;
    }
    return handled;
  };

  const scan = (): Promise<number> => {
    running ??= scanOnce().finally(() => {
      running = undefined;
    });
    return running;
  };

  const timer = setInterval(() => void scan().catch(() => undefined), options.intervalMs ?? 2000);
  timer.unref();
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, () => void scan().catch(() => undefined));
  } catch {
    watcher = undefined; // polling alone still works
  }
  return {
    scan,
    async close() {
      closed = true;
      clearInterval(timer);
      watcher?.close();
      await running;
    },
  };
}
