// @vitest-environment happy-dom
import { cleanup, render } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { makeFragmentData } from '../gql'
import type { ExecutionFieldsFragment } from '../gql/graphql'
import { describeResult, ExecutionFields, ExecutionStatus } from './ExecutionStatus'

afterEach(cleanup)

function shown(execution: Omit<ExecutionFieldsFragment, ' $fragmentName'>) {
  const { container } = render(<ExecutionStatus execution={makeFragmentData(execution, ExecutionFields)} />)
  const span = container.querySelector('span.execution')!
  return { text: span.textContent, className: span.className }
}

describe('ExecutionStatus', () => {
  it('says the agent has yet to run an approved action', () => {
    expect(shown({ status: 'READY', attempts: 0, result: null, error: null })).toEqual({ text: 'Waiting for the agent to run it', className: 'execution ready' })
  })

  it('says which attempt is running', () => {
    expect(shown({ status: 'RUNNING', attempts: 2, result: null, error: null }).text).toBe('Running (attempt 2)')
  })

  it('shows a sent message by its id', () => {
    expect(shown({ status: 'SUCCEEDED', attempts: 1, result: { messageId: 'm-42' }, error: null })).toEqual({
      text: 'Done · Sent: message id m-42',
      className: 'execution succeeded',
    })
  })

  it("shows another result's fields", () => {
    expect(shown({ status: 'SUCCEEDED', attempts: 1, result: { postId: 'p-7', url: 'https://x.test/p/7' }, error: null }).text).toBe(
      'Done · post id p-7, url https://x.test/p/7',
    )
    cleanup()
    // a record mutation the server ran reports a sentence
    expect(shown({ status: 'SUCCEEDED', attempts: 1, result: { message: 'Updated the record.' }, error: null }).text).toBe('Done · Updated the record.')
    cleanup()
    expect(shown({ status: 'SUCCEEDED', attempts: 1, result: null, error: null }).text).toBe('Done')
  })

  it('says how often it failed, and why', () => {
    expect(shown({ status: 'FAILED', attempts: 3, result: null, error: 'SMTP 550: mailbox unavailable' })).toEqual({
      text: 'Failed 3 times: SMTP 550: mailbox unavailable',
      className: 'execution failed',
    })
    cleanup()
    // a record mutation the server ran once, or a failure the worker said not to retry
    expect(shown({ status: 'FAILED', attempts: 1, result: null, error: 'The record was deleted.' }).text).toBe('Failed: The record was deleted.')
  })

  it('says a failed attempt will be run again', () => {
    expect(shown({ status: 'READY', attempts: 1, result: null, error: 'connection reset' })).toEqual({
      text: 'Will run again (attempt 1 failed: connection reset)',
      className: 'execution ready again',
    })
  })

  it('shows nothing for a request that was not approved', () => {
    const { container } = render(<ExecutionStatus execution={null} />)
    expect(container.textContent).toBe('')
  })
})

describe('describeResult', () => {
  it('keeps a result short', () => {
    expect(describeResult({ messageId: 'm-1', threadId: 't-1' })).toBe('Sent: message id m-1, thread id t-1')
    expect(describeResult({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6 })).toBe('a 1, b 2, c 3, d 4, and 2 more')
    expect(describeResult({ body: 'x'.repeat(200) })).toBe(`body ${'x'.repeat(79)}…`)
    expect(describeResult({ ids: [1, 2] })).toBe('ids [1,2]')
    expect(describeResult({})).toBeNull()
    expect(describeResult('ok')).toBe('ok')
  })
})
