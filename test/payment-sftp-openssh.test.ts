// The SFTP bank channel against a real OpenSSH server (Debian's openssh-server, started here on a
// free loopback port with its own host key and a key-only login), not only the in-process one: it
// checks the property exactly-once delivery rests on — OpenSSH's plain SFTP rename refuses to
// replace an existing file — and that upload, retry, conflict, host-key pinning and withdraw behave
// the same as against the test server. Skips when sshd is not installed or the user is not root
// (sshd's privilege separation needs root); `.ci/run` installs openssh-server.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import SftpClient from 'ssh2-sftp-client';
import { createSftpChannel } from '../src/flows/payment-run/index.ts';

const SSHD = '/usr/sbin/sshd';
const runnable = existsSync(SSHD) && process.getuid?.() === 0;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe(
  'SFTP bank channel against a real OpenSSH server',
  { skip: runnable ? false : 'needs /usr/sbin/sshd and root' },
  () => {
    let dir: string;
    let sshd: ChildProcess;
    let port: number;
    let fingerprint: string;
    let privateKey: Buffer;
    let bank: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kontor-openssh-'));
      bank = join(dir, 'bank');
      mkdirSync(bank);
      mkdirSync('/run/sshd', { recursive: true });
      for (const name of ['host', 'client'])
        spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)], {
          stdio: 'ignore',
        });
      privateKey = readFileSync(join(dir, 'client'));
      writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')));
      // "256 SHA256:… host (ED25519)"
      fingerprint = spawnSync('ssh-keygen', ['-lf', join(dir, 'host.pub')], {
        encoding: 'utf8',
      }).stdout.split(' ')[1]!;
      port = await freePort();
      writeFileSync(
        join(dir, 'sshd_config'),
        [
          `Port ${port}`,
          'ListenAddress 127.0.0.1',
          `HostKey ${join(dir, 'host')}`,
          `PidFile ${join(dir, 'sshd.pid')}`,
          `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'PubkeyAuthentication yes',
          'PermitRootLogin prohibit-password',
          'StrictModes no',
          'UsePAM no',
          'Subsystem sftp internal-sftp',
          '',
        ].join('\n'),
      );
      sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config')], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      sshd.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      for (let i = 0; i < 100 && !/Server listening/.test(log); i++)
        await new Promise((r) => setTimeout(r, 50));
      assert.match(log, /Server listening/, log);
    });
    after(() => {
      sshd?.kill('SIGTERM');
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    const channel = (hostKeySha256 = fingerprint) =>
      createSftpChannel({ host: '127.0.0.1', port, username: 'root', path: bank, hostKeySha256, privateKey });

    it('OpenSSH refuses a plain SFTP rename onto an existing file (what no-second-file rests on)', async () => {
      const client = new SftpClient('openssh-check');
      await client.connect({ host: '127.0.0.1', port, username: 'root', privateKey });
      try {
        await client.put(Buffer.from('first'), join(bank, 'taken.xml'));
        await client.put(Buffer.from('second'), join(bank, '.taken.xml.part'));
        await assert.rejects(client.rename(join(bank, '.taken.xml.part'), join(bank, 'taken.xml')));
        assert.equal(readFileSync(join(bank, 'taken.xml'), 'utf8'), 'first');
      } finally {
        await client.end();
      }
    });

    it('delivers once: upload, a retry only adopts the same file, another file under the name is a conflict', async () => {
      const c = channel();
      const first = await c.deliver('MSG-1.xml', '<Document>one</Document>');
      assert.deepEqual(first, { uploaded: true, remotePath: join(bank, 'MSG-1.xml') });
      assert.equal(readFileSync(join(bank, 'MSG-1.xml'), 'utf8'), '<Document>one</Document>');
      assert.equal((await c.deliver('MSG-1.xml', '<Document>one</Document>')).uploaded, false);
      await assert.rejects(c.deliver('MSG-1.xml', '<Document>other</Document>'), {
        code: 'BANK_CHANNEL_FILE_CONFLICT',
      });
      const both = await Promise.all([
        c.deliver('MSG-2.xml', '<D>2</D>'),
        c.deliver('MSG-2.xml', '<D>2</D>'),
      ]);
      assert.equal(both.filter((r) => r.uploaded).length >= 1, true);
      assert.equal(readFileSync(join(bank, 'MSG-2.xml'), 'utf8'), '<D>2</D>');
      assert.deepEqual(
        readdirSync(bank)
          .filter((f) => f.startsWith('MSG'))
          .sort(),
        ['MSG-1.xml', 'MSG-2.xml'],
        'no temp files left',
      );
    });

    it('pins the host key and withdraws only what was not delivered', async () => {
      await assert.rejects(channel(`SHA256:${'C'.repeat(43)}`).deliver('MSG-3.xml', '<D>3</D>'), {
        code: 'BANK_CHANNEL_HOST_KEY_MISMATCH',
      });
      assert.equal(existsSync(join(bank, 'MSG-3.xml')), false);
      const c = channel();
      writeFileSync(join(bank, '.MSG-4.xml.part'), '<D>half');
      assert.equal(await c.withdraw('MSG-4.xml', '<D>4</D>'), 'withdrawn');
      assert.equal(existsSync(join(bank, '.MSG-4.xml.part')), false);
      assert.equal(await c.withdraw('MSG-1.xml', '<Document>one</Document>'), 'delivered');
    });
  },
);
