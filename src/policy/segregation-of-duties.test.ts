import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSegregationOfDuties, type SodActor } from './segregation-of-duties.ts';

const alice: SodActor = { id: 'alice', kind: 'human' };
const bob: SodActor = { id: 'bob', kind: 'human' };
const carol: SodActor = { id: 'carol', kind: 'human' };
const dave: SodActor = { id: 'dave', kind: 'human' };
const bot: SodActor = { id: 'erp-bot', kind: 'service' };

describe('checkSegregationOfDuties', () => {
  // Each row: who created, who last changed, earlier approvals, approver, approvals needed → expected outcome.
  const matrix: {
    name: string;
    createdBy: string;
    lastModifiedBy?: string;
    approvals: SodActor[];
    approver: SodActor;
    required: number;
    expect: string;
  }[] = [
    {
      name: 'creator approves own object',
      createdBy: 'alice',
      approvals: [],
      approver: alice,
      required: 1,
      expect: 'APPROVER_IS_CREATOR',
    },
    {
      name: 'last modifier approves',
      createdBy: 'alice',
      lastModifiedBy: 'bob',
      approvals: [],
      approver: bob,
      required: 1,
      expect: 'APPROVER_IS_LAST_MODIFIER',
    },
    {
      name: 'creator approves after someone else edited',
      createdBy: 'alice',
      lastModifiedBy: 'bob',
      approvals: [],
      approver: alice,
      required: 1,
      expect: 'APPROVER_IS_CREATOR',
    },
    {
      name: 'independent human, single approval',
      createdBy: 'alice',
      approvals: [],
      approver: bob,
      required: 1,
      expect: 'complete:1',
    },
    {
      name: 'independent human, first of two',
      createdBy: 'alice',
      approvals: [],
      approver: bob,
      required: 2,
      expect: 'pending:1',
    },
    {
      name: 'second distinct human completes dual control',
      createdBy: 'alice',
      approvals: [bob],
      approver: carol,
      required: 2,
      expect: 'complete:2',
    },
    {
      name: 'same human twice',
      createdBy: 'alice',
      approvals: [bob],
      approver: bob,
      required: 2,
      expect: 'APPROVER_ALREADY_APPROVED',
    },
    {
      name: 'service identity approves',
      createdBy: 'alice',
      approvals: [],
      approver: bot,
      required: 1,
      expect: 'APPROVER_NOT_HUMAN',
    },
    {
      name: 'service created, human approves',
      createdBy: 'erp-bot',
      approvals: [],
      approver: alice,
      required: 1,
      expect: 'complete:1',
    },
    {
      name: 'earlier service approval does not count',
      createdBy: 'alice',
      approvals: [bot],
      approver: bob,
      required: 2,
      expect: 'pending:1',
    },
    {
      name: 'earlier creator approval does not count',
      createdBy: 'alice',
      approvals: [alice],
      approver: bob,
      required: 2,
      expect: 'pending:1',
    },
    {
      name: 'three distinct humans for three approvals',
      createdBy: 'alice',
      approvals: [bob, carol],
      approver: dave,
      required: 3,
      expect: 'complete:3',
    },
    {
      name: 'already fully approved',
      createdBy: 'alice',
      approvals: [bob, carol],
      approver: dave,
      required: 2,
      expect: 'ALREADY_FULLY_APPROVED',
    },
    {
      name: 'required 0 still needs one approval',
      createdBy: 'alice',
      approvals: [],
      approver: bob,
      required: 0,
      expect: 'complete:1',
    },
  ];

  for (const row of matrix) {
    it(`${row.name} → ${row.expect}`, () => {
      const result = checkSegregationOfDuties({
        createdBy: row.createdBy,
        lastModifiedBy: row.lastModifiedBy,
        approvals: row.approvals,
        approver: row.approver,
        requiredApprovals: row.required,
      });
      const outcome = result.ok
        ? `${result.value.complete ? 'complete' : 'pending'}:${result.value.approvals}`
        : result.error.code;
      assert.equal(outcome, row.expect);
    });
  }

  it('has no scope input at all, so an admin scope cannot bypass it', () => {
    // The rule's input type carries identities and kinds only; an "admin" creator is still the creator.
    const adminCreator = { id: 'root-admin', kind: 'human' as const };
    const r = checkSegregationOfDuties({
      createdBy: 'root-admin',
      approvals: [],
      approver: adminCreator,
      requiredApprovals: 1,
    });
    assert.equal(r.ok, false);
  });
});
