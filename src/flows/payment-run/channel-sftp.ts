/**
 * The bank's SFTP channel: a released file is uploaded under a temporary dot-name and renamed to
 * its final name, so the bank never picks up half a file; SFTP's plain rename fails instead of
 * replacing an existing file (OpenSSH implements it with link()), so two uploaders cannot both
 * "win". A retry that finds the final name compares size and SHA-256 with the file it would send
 * and only reports it as delivered; a different file under that name is a conflict, never
 * overwritten. The server's host key must match the configured fingerprint before anything is sent.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import SftpClient from 'ssh2-sftp-client';
import { AppError, ErrorCodes, NonRetryableError, RetryAfterError } from '../../domain/index.ts';

/** A channel that hands a released file to the bank (after the durable local write). */
export interface PaymentDeliveryChannel {
  /** A printable location without secrets, e.g. `sftp://acme@sftp.bank.example:22/upload`. */
  readonly location: string;
  /**
   * Puts `content` under `name` exactly once. `uploaded: false` means the same file was already
   * there (an earlier attempt that crashed before it was recorded). Throws BANK_CHANNEL_* errors;
   * `retryable` says whether a later attempt can help.
   */
  deliver(name: string, content: string): Promise<{ uploaded: boolean; remotePath: string }>;
  /**
   * Before an order is cancelled: `delivered` when the bank's server already holds this file under
   * `name` (the order can no longer be cancelled), else removes what an interrupted upload left and
   * answers `withdrawn` (a foreign file under the name is left untouched). Throws BANK_CHANNEL_*
   * errors when the server cannot say; then nothing may be cancelled.
   */
  withdraw(name: string, content: string): Promise<'delivered' | 'withdrawn'>;
}

export interface SftpChannelOptions {
  host: string;
  port: number;
  username: string;
  /** Remote folder the files go to. */
  path: string;
  /** `SHA256:<base64>` as `ssh-keygen -lf` prints the server's host key. */
  hostKeySha256: string;
  password?: string | undefined;
  privateKey?: string | Buffer | undefined;
  /** Connection and handshake timeout (default 20 s). */
  readyTimeoutMs?: number;
}

/** The OpenSSH fingerprint (`SHA256:` + unpadded base64 of the SHA-256 of the key blob) of a host key. */
export function sshFingerprint(hostKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(hostKey).digest('base64').replace(/=+$/, '')}`;
}

function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

function errorCode(e: unknown): unknown {
  return typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
}

/** ssh2-sftp-client reports "no such file" as code 2 (SFTP status) or ENOENT. */
function isNoSuchFile(e: unknown): boolean {
  const code = errorCode(e);
  return code === 2 || code === 'ENOENT' || /no such file/i.test(String((e as Error)?.message));
}

/** Opens the SFTP channel of one bank account; each delivery uses its own connection. */
export function createSftpChannel(options: SftpChannelOptions): PaymentDeliveryChannel {
  const expected = options.hostKeySha256.replace(/=+$/, '');
  const where = `${options.username}@${options.host}:${options.port}`;
  const location = `sftp://${where}${options.path.startsWith('/') ? '' : '/'}${options.path}`;

  function classify(e: unknown, presented: string | undefined): AppError {
    if (presented !== undefined)
      return new NonRetryableError(
        ErrorCodes.BANK_CHANNEL_HOST_KEY_MISMATCH,
        `the SFTP server ${where} presented host key ${presented}, not the configured ${expected}; ` +
          'nothing was uploaded. A changed key can mean a man in the middle: confirm the new key with the bank before changing hostKeySha256.',
        { details: { location, presented, expected } },
      );
    if (e instanceof AppError) return e;
    const message = String((e as Error)?.message ?? e);
    if (/authentication methods failed|authentication failed/i.test(message))
      return new NonRetryableError(
        ErrorCodes.BANK_CHANNEL_AUTH_FAILED,
        `the SFTP server ${where} refused the login of ${options.username}: ${message}`,
        { cause: e, details: { location } },
      );
    return new RetryAfterError(
      ErrorCodes.BANK_CHANNEL_UNAVAILABLE,
      `the SFTP channel ${location} is unavailable: ${message}`,
      { cause: e, details: { location } },
    );
  }

  /** Runs `work` on a connection to a server whose host key is the configured one. */
  async function withSession<T>(work: (client: SftpClient) => Promise<T>): Promise<T> {
    const client = new SftpClient('kontor-bank-channel');
    let presented: string | undefined;
    try {
      await client.connect({
        host: options.host,
        port: options.port,
        username: options.username,
        ...(options.privateKey === undefined ? {} : { privateKey: options.privateKey }),
        ...(options.password === undefined ? {} : { password: options.password }),
        readyTimeout: options.readyTimeoutMs ?? 20_000,
        // Refuse any server whose key is not the configured one, before authenticating.
        hostVerifier: (key: Buffer) => {
          const fingerprint = sshFingerprint(key);
          if (fingerprint === expected) return true;
          presented = fingerprint;
          return false;
        },
      });
      return await work(client);
    } catch (e) {
      throw classify(e, presented);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  async function sizeOf(client: SftpClient, path: string): Promise<number | undefined> {
    try {
      return (await client.stat(path)).size;
    } catch (e) {
      if (isNoSuchFile(e)) return undefined;
      throw e;
    }
  }

  function paths(name: string): { final: string; temp: string } {
    if (name.includes('/') || name.startsWith('.'))
      throw new NonRetryableError(ErrorCodes.VALIDATION_FAILED, `not a payment file name: ${name}`);
    // One temp name per file: uploads of one order are serialised by its row lock, and a crashed
    // attempt's partial temp file is simply overwritten by the next one.
    return { final: posix.join(options.path, name), temp: posix.join(options.path, `.${name}.part`) };
  }

  return {
    location,
    async deliver(name, content) {
      const { final, temp } = paths(name);
      const body = Buffer.from(content, 'utf8');
      const digest = sha256(body);
      return withSession(async (client) => {
        /** Adopts the file already under the final name when it is ours (same size and hash). */
        async function adoptExisting(size: number): Promise<{ uploaded: false; remotePath: string }> {
          const theirs = size === body.length ? ((await client.get(final)) as Buffer) : undefined;
          if (theirs === undefined || sha256(theirs) !== digest)
            throw new NonRetryableError(
              ErrorCodes.BANK_CHANNEL_FILE_CONFLICT,
              `${final} on ${where} exists with other content (${size} bytes) than the released file (${body.length} bytes, sha256 ${digest}); it is left untouched`,
              { details: { location, remotePath: final, sha256: digest } },
            );
          return { uploaded: false, remotePath: final };
        }

        const existing = await sizeOf(client, final);
        if (existing !== undefined) return await adoptExisting(existing);
        await client.put(body, temp, { writeStreamOptions: { flags: 'w', mode: 0o600 } });
        try {
          await client.rename(temp, final);
        } catch (e) {
          // Someone else's rename won (or the server refuses to replace): adopt theirs if it is the same file.
          const now = await sizeOf(client, final);
          if (now === undefined) throw e;
          await client.delete(temp, true).catch(() => undefined);
          return await adoptExisting(now);
        }
        return { uploaded: true, remotePath: final };
      });
    },
    async withdraw(name, content) {
      const { final, temp } = paths(name);
      const body = Buffer.from(content, 'utf8');
      return withSession(async (client) => {
        const size = await sizeOf(client, final);
        if (size === body.length && sha256((await client.get(final)) as Buffer) === sha256(body))
          return 'delivered' as const;
        if ((await sizeOf(client, temp)) !== undefined) await client.delete(temp);
        return 'withdrawn' as const;
      });
    },
  };
}
