import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startFolderInbox, type FolderInbox } from './index.ts';

describe('folder inbox', () => {
  let dir: string;
  let inbox: FolderInbox;
  const seen: string[] = [];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'kontor-inbox-'));
    inbox = startFolderInbox({
      dir,
      intervalMs: 60_000,
      now: () => new Date('2026-11-22T08:00:00Z'),
      onFile: async ({ name, content }) => {
        seen.push(name);
        if (new TextDecoder().decode(content).includes('bad'))
          throw Object.assign(new Error('statement X does not balance'), { code: 'STATEMENT_UNBALANCED' });
      },
    });
  });
  after(async () => {
    await inbox.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('takes a file only once its size is stable, then moves it to processed/ or failed/ with the error beside it', async () => {
    writeFileSync(join(dir, 'good.xml'), 'good');
    writeFileSync(join(dir, 'bad.xml'), 'bad');
    writeFileSync(join(dir, 'upload.part'), 'still copying');
    assert.equal(await inbox.scan(), 0, 'first sight: sizes recorded, nothing taken');
    assert.equal(await inbox.scan(), 2);
    assert.deepEqual(seen.sort(), ['bad.xml', 'good.xml']);
    assert.ok(existsSync(join(dir, 'processed', 'good.xml')));
    assert.ok(existsSync(join(dir, 'failed', 'bad.xml')));
    const error = JSON.parse(readFileSync(join(dir, 'failed', 'bad.xml.error.json'), 'utf8')) as {
      error: { code: string; message: string };
    };
    assert.deepEqual(
      [error.error.code, error.error.message],
      ['STATEMENT_UNBALANCED', 'statement X does not balance'],
    );
    assert.deepEqual(
      readdirSync(dir).sort(),
      ['failed', 'processed', 'upload.part'],
      'partial uploads are left alone',
    );
  });

  it('keeps an earlier file of the same name when moving a new one', async () => {
    writeFileSync(join(dir, 'good.xml'), 'good again');
    await inbox.scan();
    await inbox.scan();
    assert.deepEqual(readdirSync(join(dir, 'processed')).sort(), [
      '2026-11-22T08-00-00-000Z-good.xml',
      'good.xml',
    ]);
  });
});
