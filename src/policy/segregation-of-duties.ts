/**
 * Segregation of duties, the shared rule: whoever created or last changed an object may not
 * approve it, and N approvals need N distinct human identities. Scopes play no part here, so
 * an `admin` scope cannot bypass it.
 */
import { err, ok, type Result } from '../domain/index.ts';
import type { IdentityKind } from './identity/identity.ts';

/** Who is acting, as far as segregation of duties cares. */
export interface SodActor {
  id: string;
  kind: IdentityKind;
}

export interface SegregationOfDutiesInput {
  /** Identity id that created the object. */
  createdBy: string;
  /** Identity id that last changed the object (same as createdBy when never changed). */
  lastModifiedBy?: string | undefined;
  /** Approvals already given, in order. */
  approvals: readonly SodActor[];
  /** The identity that wants to approve now. */
  approver: SodActor;
  /** Approvals the object needs in total (dual control = 2). */
  requiredApprovals: number;
}

/** Why an approval is refused. */
export type SodViolation =
  | { code: 'APPROVER_IS_CREATOR'; message: string }
  | { code: 'APPROVER_IS_LAST_MODIFIER'; message: string }
  | { code: 'APPROVER_NOT_HUMAN'; message: string }
  | { code: 'APPROVER_ALREADY_APPROVED'; message: string }
  | { code: 'ALREADY_FULLY_APPROVED'; message: string };

export interface SodDecision {
  /** Approvals after this one. */
  approvals: number;
  /** True when this approval completes the required count. */
  complete: boolean;
}

/** Decides whether `approver` may add an approval; counts only distinct human approvers. */
export function checkSegregationOfDuties(input: SegregationOfDutiesInput): Result<SodDecision, SodViolation> {
  const { approver } = input;
  if (approver.kind !== 'human') {
    return err({
      code: 'APPROVER_NOT_HUMAN',
      message: `identity ${approver.id} is a ${approver.kind}; only humans approve`,
    });
  }
  if (approver.id === input.createdBy) {
    return err({
      code: 'APPROVER_IS_CREATOR',
      message: `identity ${approver.id} created this object and cannot approve it`,
    });
  }
  if (input.lastModifiedBy !== undefined && approver.id === input.lastModifiedBy) {
    return err({
      code: 'APPROVER_IS_LAST_MODIFIER',
      message: `identity ${approver.id} last changed this object and cannot approve it`,
    });
  }
  if (input.approvals.some((a) => a.id === approver.id)) {
    return err({
      code: 'APPROVER_ALREADY_APPROVED',
      message: `identity ${approver.id} has already approved; approvals need distinct people`,
    });
  }
  // Earlier approvals by non-humans or by the creator never count, even if some older code let them in.
  const counted = new Set(
    input.approvals
      .filter((a) => a.kind === 'human' && a.id !== input.createdBy && a.id !== input.lastModifiedBy)
      .map((a) => a.id),
  );
  const required = Math.max(1, input.requiredApprovals);
  if (counted.size >= required) {
    return err({
      code: 'ALREADY_FULLY_APPROVED',
      message: `the object already has ${counted.size} of ${required} approvals`,
    });
  }
  const approvals = counted.size + 1;
  return ok({ approvals, complete: approvals >= required });
}
