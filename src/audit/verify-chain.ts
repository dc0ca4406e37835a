/**
 * Walks the audit chain from the first record and names the first one that is broken, then
 * checks every checkpoint's signature and that the chain still holds what was signed.
 */
import type { KeyObject } from 'node:crypto';
import type { Db } from '../store/index.ts';
import { verifyCheckpointSignature } from './checkpoint.ts';
import {
  AUDIT_COLUMNS,
  computeRecordHash,
  GENESIS_HASH,
  readAuditHead,
  toAuditRecord,
  type AuditRow,
} from './record.ts';

/** Why a record breaks the chain. */
export type ChainBreak =
  | { seq: bigint; reason: 'hash-mismatch'; message: string }
  | { seq: bigint; reason: 'prev-hash-mismatch'; message: string }
  | { seq: bigint; reason: 'sequence-gap'; message: string }
  | { seq: bigint; reason: 'head-mismatch'; message: string };

/** A checkpoint that does not hold. */
export interface CheckpointProblem {
  seq: bigint;
  message: string;
}

export interface VerifyChainResult {
  ok: boolean;
  /** Records checked. */
  records: number;
  /** The first broken record, if any. */
  firstBreak: ChainBreak | undefined;
  checkpointsChecked: number;
  checkpointProblems: CheckpointProblem[];
}

export interface VerifyChainOptions {
  /** Public keys (by key id) that checkpoints may be signed with; none = signatures are not checked. */
  publicKeys?: Map<string, KeyObject>;
  /** Rows read per query. */
  batchSize?: number;
}

/** Verifies the whole chain and its checkpoints. */
export async function verifyAuditChain(db: Db, options: VerifyChainOptions = {}): Promise<VerifyChainResult> {
  const batch = options.batchSize ?? 1000;
  let prevHash = GENESIS_HASH;
  let expectedSeq = 1n;
  let records = 0;
  let firstBreak: ChainBreak | undefined;
  const recomputed = new Map<bigint, string>();
  const checkpointRows = await db.query<{ seq: bigint; hash: string; key_id: string; signature: string }>(
    'SELECT seq, hash, key_id, signature FROM kontor_audit_checkpoints ORDER BY seq',
  );
  const checkpointSeqs = new Set(checkpointRows.rows.map((c) => BigInt(c.seq)));

  for (;;) {
    const page = await db.query<AuditRow>(
      `SELECT ${AUDIT_COLUMNS} FROM kontor_audit WHERE seq >= $1 ORDER BY seq LIMIT $2`,
      [expectedSeq.toString(), batch],
    );
    for (const row of page.rows) {
      const r = toAuditRecord(row);
      records++;
      const own = computeRecordHash(r);
      if (checkpointSeqs.has(r.seq)) recomputed.set(r.seq, own);
      if (firstBreak === undefined) {
        if (r.seq !== expectedSeq) {
          firstBreak = {
            seq: r.seq,
            reason: 'sequence-gap',
            message: `record ${r.seq} follows ${expectedSeq - 1n}: records are missing`,
          };
        } else if (r.prevHash !== prevHash) {
          firstBreak = {
            seq: r.seq,
            reason: 'prev-hash-mismatch',
            message: `record ${r.seq} does not link to record ${r.seq - 1n}`,
          };
        } else if (own !== r.hash) {
          firstBreak = {
            seq: r.seq,
            reason: 'hash-mismatch',
            message: `record ${r.seq} was changed after it was written (its content does not match its hash)`,
          };
        }
      }
      // Continue from the stored values so a single changed row is reported once, not as a cascade.
      prevHash = r.hash;
      expectedSeq = r.seq + 1n;
    }
    if (page.rows.length < batch) break;
  }

  const head = await readAuditHead(db);
  if (firstBreak === undefined && (head.seq !== expectedSeq - 1n || head.hash !== prevHash)) {
    firstBreak = {
      seq: head.seq,
      reason: 'head-mismatch',
      message: `the chain head says record ${head.seq} but the log ends at ${expectedSeq - 1n}: records were removed or the head was altered`,
    };
  }

  const checkpointProblems: CheckpointProblem[] = [];
  for (const c of checkpointRows.rows) {
    const seq = BigInt(c.seq);
    if (options.publicKeys !== undefined) {
      const key = options.publicKeys.get(c.key_id);
      if (key === undefined) {
        checkpointProblems.push({ seq, message: `checkpoint ${seq} is signed by unknown key ${c.key_id}` });
        continue;
      }
      if (!verifyCheckpointSignature({ seq, hash: c.hash, signature: c.signature }, key)) {
        checkpointProblems.push({ seq, message: `checkpoint ${seq} has an invalid signature` });
        continue;
      }
    }
    const now = recomputed.get(seq);
    if (now === undefined)
      checkpointProblems.push({ seq, message: `checkpoint ${seq} names a record that no longer exists` });
    else if (now !== c.hash)
      checkpointProblems.push({
        seq,
        message: `record ${seq} no longer matches the hash signed in its checkpoint`,
      });
  }

  return {
    ok: firstBreak === undefined && checkpointProblems.length === 0,
    records,
    firstBreak,
    checkpointsChecked: checkpointRows.rows.length,
    checkpointProblems,
  };
}
