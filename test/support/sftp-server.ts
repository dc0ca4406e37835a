/**
 * An in-process SFTP server for the bank-channel tests, built on ssh2's Server and backed by a
 * temp directory. It serves what a bank's upload server does: open/write/read/close, stat,
 * rename (refusing to replace an existing file, like OpenSSH's link-based rename), remove and
 * realpath. `stop()` and `start()` take it down and bring it back on the same port.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import type { Stats } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';
import ssh2 from 'ssh2';

const { Server, utils } = ssh2;
const { OPEN_MODE, STATUS_CODE } = utils.sftp;

export interface TestSftpServer {
  host: string;
  port: number;
  /** Files land under root + the remote path. */
  root: string;
  username: string;
  password: string;
  /** The fingerprint of the server's host key, as `ssh-keygen -lf` prints it. */
  hostKeySha256: string;
  /** Files opened for writing (uploads begun), and renames done. */
  stats: { writes: number; renames: number; connections: number };
  stop(): Promise<void>;
  start(): Promise<void>;
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function fsFlags(flags: number): string {
  const write = (flags & OPEN_MODE.WRITE) !== 0;
  if (!write) return 'r';
  if ((flags & OPEN_MODE.EXCL) !== 0) return 'wx';
  if ((flags & OPEN_MODE.APPEND) !== 0) return 'a';
  if ((flags & OPEN_MODE.TRUNC) !== 0 || (flags & OPEN_MODE.CREAT) !== 0) return 'w';
  return 'r+';
}

/** Starts an SFTP server on 127.0.0.1 (a free port) serving `root`. */
export async function startSftpServer(
  root: string,
  options: { port?: number } = {},
): Promise<TestSftpServer> {
  const keys = utils.generateKeyPairSync('ed25519');
  const parsed = utils.parseKey(keys.public);
  if (parsed instanceof Error) throw parsed;
  const blob = (Array.isArray(parsed) ? parsed[0] : parsed).getPublicSSH();
  const hostKeySha256 = `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
  const username = 'kontor';
  const password = 'bank-secret';
  const stats = { writes: 0, renames: 0, connections: 0 };
  mkdirSync(root, { recursive: true });

  const local = (remote: string): string => {
    const path = normalize(join(root, normalize(`/${remote}`)));
    if (!path.startsWith(root)) throw new Error('outside the root');
    return path;
  };

  const server = new Server({ hostKeys: [keys.private] }, (client) => {
    stats.connections++;
    client.on('error', () => undefined);
    client
      .on('authentication', (ctx) => {
        if (ctx.method === 'password' && same(ctx.username, username) && same(ctx.password, password))
          ctx.accept();
        else ctx.reject(['password']);
      })
      .on('ready', () => {
        client.on('session', (acceptSession) => {
          const session = acceptSession();
          session.on('sftp', (acceptSftp) => {
            const sftp = acceptSftp();
            const handles = new Map<number, number>();
            let next = 0;
            const fdOf = (handle: Buffer) =>
              handle.length === 4 ? handles.get(handle.readUInt32BE(0)) : undefined;
            const fail = (reqid: number, e: unknown) => {
              const code = (e as NodeJS.ErrnoException).code;
              sftp.status(
                reqid,
                code === 'ENOENT'
                  ? STATUS_CODE.NO_SUCH_FILE
                  : code === 'EACCES'
                    ? STATUS_CODE.PERMISSION_DENIED
                    : STATUS_CODE.FAILURE,
                String((e as Error).message),
              );
            };
            const attrsOf = (s: Stats) => ({
              mode: Number(s.mode),
              uid: 0,
              gid: 0,
              size: Number(s.size),
              atime: Math.floor(Number(s.atimeMs) / 1000),
              mtime: Math.floor(Number(s.mtimeMs) / 1000),
            });
            sftp
              .on('OPEN', (reqid, filename, flags) => {
                try {
                  const mode = fsFlags(flags);
                  const fd = openSync(local(filename), mode, 0o600);
                  if (mode !== 'r') stats.writes++;
                  const h = Buffer.alloc(4);
                  h.writeUInt32BE(next, 0);
                  handles.set(next++, fd);
                  sftp.handle(reqid, h);
                } catch (e) {
                  fail(reqid, e);
                }
              })
              .on('WRITE', (reqid, handle, offset, data) => {
                const fd = fdOf(handle);
                if (fd === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
                writeSync(fd, data, 0, data.length, offset);
                sftp.status(reqid, STATUS_CODE.OK);
              })
              .on('READ', (reqid, handle, offset, length) => {
                const fd = fdOf(handle);
                if (fd === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
                const buf = Buffer.alloc(length);
                const n = readSync(fd, buf, 0, length, offset);
                if (n === 0) return sftp.status(reqid, STATUS_CODE.EOF);
                sftp.data(reqid, buf.subarray(0, n));
              })
              .on('FSTAT', (reqid, handle) => {
                const fd = fdOf(handle);
                if (fd === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
                sftp.attrs(reqid, attrsOf(fstatSync(fd)));
              })
              .on('FSETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK))
              .on('SETSTAT', (reqid) => sftp.status(reqid, STATUS_CODE.OK))
              .on('CLOSE', (reqid, handle) => {
                const fd = fdOf(handle);
                if (fd === undefined) return sftp.status(reqid, STATUS_CODE.FAILURE);
                closeSync(fd);
                handles.delete(handle.readUInt32BE(0));
                sftp.status(reqid, STATUS_CODE.OK);
              })
              .on('STAT', onStat)
              .on('LSTAT', onStat)
              .on('REALPATH', (reqid, path) => {
                const p = normalize(`/${path}`);
                sftp.name(reqid, [{ filename: p, longname: p, attrs: {} as never }]);
              })
              .on('RENAME', (reqid, from, to) => {
                try {
                  // link() refuses an existing target, as OpenSSH's sftp-server does.
                  linkSync(local(from), local(to));
                  unlinkSync(local(from));
                  stats.renames++;
                  sftp.status(reqid, STATUS_CODE.OK);
                } catch (e) {
                  fail(reqid, e);
                }
              })
              .on('REMOVE', (reqid, path) => {
                try {
                  unlinkSync(local(path));
                  sftp.status(reqid, STATUS_CODE.OK);
                } catch (e) {
                  fail(reqid, e);
                }
              });
            function onStat(reqid: number, path: string) {
              try {
                const p = local(path);
                if (!existsSync(p)) return sftp.status(reqid, STATUS_CODE.NO_SUCH_FILE, 'No such file');
                sftp.attrs(reqid, attrsOf(statSync(p)));
              } catch (e) {
                fail(reqid, e);
              }
            }
          });
        });
      });
  });

  let port = options.port ?? 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();
  const api: TestSftpServer = {
    host: '127.0.0.1',
    port,
    root,
    username,
    password,
    hostKeySha256,
    stats,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
      }),
    start: listen,
  };
  return api;
}
