import { builder } from '../builder.js'

// Enums mirror the database's (see prisma/schema.prisma).
export const ResourceType = builder.enumType('ResourceType', { values: ['AGENT_ACTION', 'RECORD_MUTATION'] as const })
export const ExpiryAction = builder.enumType('ExpiryAction', {
  values: {
    EXPIRE: { description: 'The request expires and the action is cancelled (the default).' },
    APPROVE: { description: 'Reviewers may decide until then; silence means approval, recorded as such.' },
  } as const,
})
export const ResolverType = builder.enumType('ResolverType', {
  values: ['NAMED_USER', 'MANAGER', 'ROLE', 'RECORD_OWNER', 'AGENT', 'AUTO_APPROVE'] as const,
})
export const ApprovalStatus = builder.enumType('ApprovalStatus', {
  values: ['PENDING', 'APPROVED', 'REJECTED', 'EXPIRED', 'CANCELLED'] as const,
})
export const ApprovalEventType = builder.enumType('ApprovalEventType', {
  values: {
    REQUESTED: {},
    ESCALATED: {},
    APPROVED: {},
    REJECTED: {},
    EXPIRED: {},
    CANCELLED: {},
    EXECUTED: { description: 'The approved action ran: the server ran the record mutation, or the worker reported success (details: its result).' },
    EXECUTION_FAILED: { description: 'The approved action failed for good (last attempt, or a final failure); the comment says why.' },
    EXECUTION_STARTED: { description: 'A worker claimed the approved action (one event per attempt).' },
    EXECUTION_RETRYING: { description: 'An attempt failed or its lease ran out; the action is ready to run again.' },
    EDITED: { description: 'A reviewer approved with changed parameters; details holds the JSON Patch (RFC 6902) from params to approvedParams.' },
    VOTED: { description: 'A reviewer approved; the stage needs more approvals (details: stage, approvals, requiredApprovals).' },
    ADVANCED: { description: "A stage got all its approvals; the next stage's reviewers take over (details: from, to, stage name)." },
    DELEGATED: { description: "An away reviewer's delegate was assigned in their place; details names them (absent, delegate)." },
    VOTES_VOIDED: {
      description: "A reviewer's edit voided the approvals given earlier in its stage (they were of other params): details names the stage and their reviewers (voters), who review the edit again.",
    },
  } as const,
})
