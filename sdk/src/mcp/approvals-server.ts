// approvals-mcp: an MCP server of the approvals service itself, for agents that ask for approval
// explicitly (rather than through the gateway): request_approval, get_approval,
// list_action_types, as the agent whose token it holds.
import { randomUUID } from 'node:crypto'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js'
import { z } from 'zod'
import { ApprovalsError, ApprovalTimeoutError } from '../errors.js'
import { requestApproval, waitForDecision } from '../gate.js'
import type { Approvals } from '../index.js'
import { transportOf } from '../transport.js'
import { callIdempotencyKey, DEFAULT_PROGRESS_INTERVAL_MS, duration, progressOf } from './calls.js'
import { silentLog, type Log } from './log.js'
import { packageVersion } from './version.js'

/** Options of {@link createApprovalsMcpServer}. */
export interface ApprovalsMcpOptions {
  /** A client of the approvals service made with an agent's token. */
  approvals: Approvals
  /** The inbox's address, named in what a waiting request says. */
  inboxUrl?: string
  /** How often a waiting request_approval sends a progress notification (when asked for). Default 15 s. */
  progressIntervalMs?: number
  log?: Log
}

/** A request as the tools tell it. */
interface Approval {
  approvalRequired: boolean
  requestId: string | null
  status: 'NOT_REQUIRED' | 'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED' | 'CANCELLED'
  decidedBy: string | null
  comment: string | null
  /**
   * The params to run, only when the action may run: APPROVED, as approved (a reviewer may have
   * edited them); NOT_REQUIRED, as asked. Null otherwise: nothing was approved, and a model must
   * not find params to run in a PENDING or REJECTED answer.
   */
  approvedParams: unknown
  edited: boolean
  inboxUrl: string | null
}

const REQUEST_FIELDS = `id status params approvedParams edited decisionComment decidedBy { name }`

interface RequestState {
  id: string
  status: Approval['status']
  params: unknown
  approvedParams: unknown
  edited: boolean
  decisionComment: string | null
  decidedBy: { name: string } | null
}

const GET_APPROVAL = `query GetApproval($id: ID!) { approvalRequest(id: $id) { ${REQUEST_FIELDS} } }`
const ACTION_TYPES = `{ actionTypes { key description resourceType paramsSchema builtIn } }`

/** What the model should do, in words, then the facts. */
function told(approval: Approval): CallToolResult {
  const by = approval.decidedBy ? ` by ${approval.decidedBy}` : ''
  const comment = approval.comment ? `: ${approval.comment}` : ''
  const words: Record<Approval['status'], string> = {
    NOT_REQUIRED: 'No rule gates this action: go ahead with it.',
    PENDING: `The request waits for a reviewer${approval.inboxUrl ? ` (${approval.inboxUrl})` : ''}. Do not run the action yet; call get_approval with requestId ${approval.requestId} later.`,
    APPROVED: `Approved${by}${comment}. Run the action with approvedParams${approval.edited ? ', which a reviewer changed from what you asked' : ''}.`,
    REJECTED: `Rejected${by}${comment}. Do not run the action.`,
    EXPIRED: 'Nobody decided in time and the request expired. Do not run the action.',
    CANCELLED: `The request was cancelled${comment}. Do not run the action.`,
  }
  return {
    content: [{ type: 'text', text: `${words[approval.status]}\n${JSON.stringify(approval)}` }],
    structuredContent: approval as unknown as Record<string, unknown>,
  }
}

/** An error the model can read: the service's code and message (a refused onBehalfOf, bad params). */
function failed(error: unknown): CallToolResult {
  const text =
    error instanceof ApprovalsError
      ? `The approvals service refused: ${error.code}${error.pointer ? ` at params${error.pointer}` : ''}: ${error.message}`
      : `The approvals service could not be asked: ${(error as Error)?.message ?? String(error)}`
  return { isError: true, content: [{ type: 'text', text }] }
}

/**
 * An MCP server (the SDK's McpServer) with the approvals tools, asking as the agent of
 * `approvals`. Make one per client connection.
 */
export function createApprovalsMcpServer(options: ApprovalsMcpOptions): McpServer {
  const { approvals } = options
  const log = options.log ?? silentLog
  const transport = transportOf(approvals)
  const session = randomUUID()
  const inboxLink = (id: string | null) => (id && options.inboxUrl ? new URL(`#/inbox/${encodeURIComponent(id)}`, options.inboxUrl).toString() : null)
  const approvalOf = (request: RequestState): Approval => ({
    approvalRequired: true,
    requestId: request.id,
    status: request.status,
    decidedBy: request.decidedBy?.name ?? null,
    comment: request.decisionComment,
    approvedParams: request.status === 'APPROVED' ? (request.approvedParams ?? request.params) : null,
    edited: request.status === 'APPROVED' && request.edited,
    inboxUrl: request.status === 'PENDING' ? inboxLink(request.id) : null,
  })
  const notRequired = (params: unknown): Approval => ({
    approvalRequired: false,
    requestId: null,
    status: 'NOT_REQUIRED',
    decidedBy: null,
    comment: null,
    approvedParams: params,
    edited: false,
    inboxUrl: null,
  })

  const server = new McpServer(
    { name: 'approvals-mcp', version: packageVersion },
    {
      instructions:
        'Ask a person before a sensitive action: request_approval, then run the action only when the status is APPROVED (or NOT_REQUIRED), with approvedParams. ' +
        'list_action_types says which actions exist and the params each takes.',
    },
  )

  server.registerTool(
    'list_action_types',
    {
      title: 'List action types',
      description: 'The actions you can ask approval for, each with a description and the JSON Schema of its params.',
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async () => {
      try {
        const data = await approvals.request<{ actionTypes: { key: string; description: string; resourceType: string; paramsSchema: unknown; builtIn: boolean }[] }>(ACTION_TYPES)
        // record changes are asked for by createRecord / updateRecord, not here
        const actionTypes = data.actionTypes.filter((a) => a.resourceType === 'AGENT_ACTION').map(({ key, description, paramsSchema }) => ({ key, description, paramsSchema }))
        return { content: [{ type: 'text', text: JSON.stringify({ actionTypes }) }], structuredContent: { actionTypes } }
      } catch (error) {
        return failed(error)
      }
    },
  )

  server.registerTool(
    'request_approval',
    {
      title: 'Request approval',
      description:
        'Asks a person to approve an action before you take it, and waits up to waitSeconds for the decision. ' +
        'NOT_REQUIRED or APPROVED: go ahead, with approvedParams (a reviewer may have changed them). REJECTED, EXPIRED, CANCELLED: do not. ' +
        'PENDING: not decided yet; call get_approval later. Calling again with the same idempotencyKey returns the same request.',
      inputSchema: {
        actionType: z.string().min(1).max(64).describe('The action, e.g. send_email; see list_action_types.'),
        params: z.record(z.string(), z.unknown()).describe("The action's params, as its paramsSchema describes them."),
        summary: z.string().max(1000).optional().describe('One line for the reviewer.'),
        context: z.record(z.string(), z.unknown()).optional().describe('Anything that helps the reviewer decide (the task, the conversation).'),
        module: z.string().max(200).optional().describe('The module the action belongs to, when rules are per module.'),
        onBehalfOfUserId: z.string().max(200).optional().describe('The ID of the person you act for, when you act for several.'),
        idempotencyKey: z.string().min(1).max(200).optional().describe('Ask again with the same key to find the same request.'),
        waitSeconds: z.number().int().min(0).max(3600).optional().describe('How long to wait for a decision before answering PENDING. Default 30.'),
      },
      annotations: { openWorldHint: false },
    },
    async (input, extra) => {
      const progress = progressOf(extra, options.progressIntervalMs ?? DEFAULT_PROGRESS_INTERVAL_MS)
      try {
        const asked = await requestApproval(
          transport,
          input.actionType,
          input.params,
          {
            summary: input.summary === undefined ? undefined : () => input.summary!,
            context: input.context === undefined ? undefined : () => input.context,
            module: input.module,
            onBehalfOfUserId: input.onBehalfOfUserId,
            idempotencyKey: input.idempotencyKey ?? callIdempotencyKey(session, extra.requestId),
          },
          extra.signal,
        )
        if (!asked.approvalRequired || !asked.request) return told(notRequired(input.params))
        const id = asked.request.id
        const waitMs = (input.waitSeconds ?? 30) * 1000
        if (asked.request.status === 'PENDING' && waitMs > 0) {
          const where = inboxLink(id)
          progress.every((elapsed) => `Waiting for a reviewer${where ? ` (${where})` : ''}${elapsed ? `: ${duration(elapsed)} so far` : ''}`)
          try {
            await waitForDecision(transport, id, { signal: extra.signal, timeoutMs: waitMs })
          } catch (error) {
            if (!(error instanceof ApprovalTimeoutError)) throw error
          } finally {
            progress.stop()
          }
        }
        // the decision's payload lacks the approved params: read the request as get_approval does
        const state = await approvals.request<{ approvalRequest: RequestState | null }>(GET_APPROVAL, { id })
        if (!state.approvalRequest) throw new Error(`the request ${id} cannot be read back`)
        log.info(`request ${id}: ${state.approvalRequest.status}`)
        return told(approvalOf(state.approvalRequest))
      } catch (error) {
        return failed(error)
      } finally {
        progress.stop()
      }
    },
  )

  server.registerTool(
    'get_approval',
    {
      title: 'Get an approval',
      description: 'The state of a request made with request_approval: its status, who decided, their comment, and the params approved.',
      inputSchema: { requestId: z.string().min(1).max(200).describe('The requestId request_approval returned.') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ requestId }) => {
      try {
        const state = await approvals.request<{ approvalRequest: RequestState | null }>(GET_APPROVAL, { id: requestId })
        if (!state.approvalRequest) return { isError: true, content: [{ type: 'text', text: `No request ${requestId} that you may see.` }] }
        return told(approvalOf(state.approvalRequest))
      } catch (error) {
        return failed(error)
      }
    },
  )

  return server
}
