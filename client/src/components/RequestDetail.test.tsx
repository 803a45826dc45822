// @vitest-environment happy-dom
import { cleanup, render, screen } from '@testing-library/react'
import { Client, fetchExchange, Provider } from 'urql'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { DecisionsProvider } from '../lib/decisions'
import { RequestDetail } from './RequestDetail'

vi.mock('../lib/auth', () => ({ useSession: () => ({ viewerId: 'u-rita', can: () => true }) }))

afterEach(cleanup)

const agent = { __typename: 'Agent', id: 'a-1', name: 'Outreach agent' }
const rita = { __typename: 'User', id: 'u-rita', name: 'Rita Reviewer' }

const approvedEmail = {
  __typename: 'ApprovalRequest',
  id: 'r-1',
  status: 'APPROVED',
  resourceType: 'AGENT_ACTION',
  actionType: 'send_email',
  params: { to: ['lead@customer.example'], subject: 'Offer', body: 'Hello' },
  module: null,
  recordId: null,
  summary: 'Email: Offer',
  context: null,
  resolverType: 'NAMED_USER',
  escalated: false,
  stage: 1,
  stageCount: 1,
  requiredApprovals: 1,
  edited: false,
  approvedParams: null,
  votes: [],
  decisionComment: 'Send it',
  decidedAt: '2026-01-01T10:05:00Z',
  expiresAt: null,
  createdAt: '2026-01-01T10:00:00Z',
  decidedBy: rita,
  requester: agent,
  onBehalfOf: null,
  proposedOwner: null,
  conditionError: null,
  reviewers: [rita],
  rule: null,
  record: null,
  execution: { __typename: 'Execution', status: 'FAILED', attempts: 3, result: null, error: 'SMTP 550' },
  events: [
    { type: 'REQUESTED', comment: null, details: null, at: '2026-01-01T10:00:00Z', actor: agent },
    { type: 'APPROVED', comment: 'Send it', details: null, at: '2026-01-01T10:05:00Z', actor: rita },
    { type: 'EXECUTION_STARTED', comment: 'Attempt 1', details: { attempt: 1 }, at: '2026-01-01T10:06:00Z', actor: agent },
    { type: 'EXECUTION_RETRYING', comment: 'Attempt 1 failed; it will run again: timeout', details: { attempt: 1, error: 'timeout' }, at: '2026-01-01T10:07:00Z', actor: agent },
    { type: 'EXECUTION_STARTED', comment: 'Attempt 2', details: { attempt: 2 }, at: '2026-01-01T10:08:00Z', actor: agent },
    { type: 'EXECUTED', comment: 'Attempt 2 succeeded.', details: { messageId: 'm-42' }, at: '2026-01-01T10:09:00Z', actor: agent },
    { type: 'EXECUTION_FAILED', comment: 'Failed 3 times: SMTP 550', details: { attempt: 3, error: 'SMTP 550' }, at: '2026-01-01T10:10:00Z', actor: null },
  ],
}

function renderWith(approvalRequest: unknown) {
  const client = new Client({
    url: 'http://test.invalid/graphql',
    exchanges: [fetchExchange],
    fetch: async () => new Response(JSON.stringify({ data: { approvalRequest } }), { headers: { 'content-type': 'application/json' } }),
  })
  return render(
    <Provider value={client}>
      <DecisionsProvider token="t">
        <RequestDetail id="r-1" />
      </DecisionsProvider>
    </Provider>,
  )
}

describe('RequestDetail', () => {
  it('shows how running an approved action went, and its attempts in the history in words', async () => {
    renderWith(approvedEmail)
    await screen.findByText('Email: Offer')
    expect(document.querySelector('.banner.run')!.textContent).toBe('Failed 3 times: SMTP 550')
    const labels = [...document.querySelectorAll('ol.timeline .event')].map((e) => e.textContent)
    expect(labels).toEqual(['Requested', 'Approved', 'Started (attempt 1)', 'Will run again', 'Started (attempt 2)', 'Ran', 'Failed'])
    // a start's "Attempt n" is not repeated under its label; other comments stay
    expect(screen.queryByText('Attempt 1')).toBeNull()
    expect(screen.getByText('Attempt 1 failed; it will run again: timeout')).toBeTruthy()
  })

  it('says nothing of running a request that was not approved', async () => {
    renderWith({ ...approvedEmail, status: 'REJECTED', execution: null, events: approvedEmail.events.slice(0, 1) })
    await screen.findByText(/This request was rejected/)
    expect(document.querySelector('.execution')).toBeNull()
  })

  it('shows the stage, the approvals it still needs, who approved, and the version an earlier stage edited', async () => {
    const lena = { __typename: 'User', id: 'u-lena', name: 'Lena Legal' }
    renderWith({
      ...approvedEmail,
      status: 'PENDING',
      execution: null,
      decidedBy: null,
      decisionComment: null,
      decidedAt: null,
      events: approvedEmail.events.slice(0, 1),
      stage: 2,
      stageCount: 2,
      requiredApprovals: 2,
      edited: true,
      approvedParams: { ...approvedEmail.params, body: 'Hello again' },
      votes: [
        { __typename: 'ApprovalVote', stage: 1, comment: 'fine', reviewer: rita },
        { __typename: 'ApprovalVote', stage: 2, comment: null, reviewer: lena },
      ],
    })
    await screen.findByText('Email: Offer')
    expect(document.querySelector('.stage-progress')!.textContent).toBe('Stage 2 of 2. 1 of 2 approvals in this stage.')
    expect([...document.querySelectorAll('ul.votes li')].map((li) => li.textContent)).toEqual(['Stage 1: Rita Reviewer approved — “fine”', 'Stage 2: Lena Legal approved'])
    expect(screen.getByText(/Hello again/)).toBeTruthy()
  })

  it('says in words who decides, who takes over and when, and what follows this stage', async () => {
    const resolver = (extra: object) => ({ __typename: 'ResolverSpec', roleKey: null, delaySeconds: null, user: null, agent: null, ...extra })
    renderWith({
      ...approvedEmail,
      status: 'PENDING',
      execution: null,
      decidedBy: null,
      decisionComment: null,
      decidedAt: null,
      events: approvedEmail.events.slice(0, 1),
      reviewers: [rita],
      stage: 1,
      stageCount: 2,
      requiredApprovals: 2,
      rule: {
        __typename: 'ApprovalRule',
        id: 'rule-1',
        name: 'Big deals',
        description: null,
        version: 1,
        conditions: null,
        module: null,
        priority: 0,
        escalateAfterSeconds: 7200,
        primaryResolver: resolver({ type: 'ROLE', roleKey: 'sales' }),
        fallbackResolver: resolver({ type: 'NAMED_USER', user: { __typename: 'User', name: 'Dana' } }),
        nextStages: [{ __typename: 'ApprovalStage', name: 'Legal', requiredApprovals: 1, escalateAfterSeconds: null, primaryResolver: resolver({ type: 'MANAGER' }), fallbackResolver: null }],
      },
    })
    await screen.findByText('Email: Offer')
    expect(document.querySelector('.assignment')!.textContent).toBe('Decided by anyone with the role sales. If nobody decides within 2 hours, it goes to Dana.')
    expect(document.querySelector('.stage-progress')!.textContent).toBe('Stage 1 of 2. 0 of 2 approvals in this stage; then Legal (the manager of the person it is for).')
  })
})
