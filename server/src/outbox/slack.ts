// Slack: a reviewer with a Slack member id gets each request as a direct message with Approve and
// Reject buttons (Block Kit); the message's buttons give way to the outcome once the request is
// decided anywhere, or is no longer theirs (chat.update). Calls go through @slack/web-api's
// WebClient to SLACK_API_URL; the outbox (notifications.ts) retries what fails, so the client
// itself does not retry.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { LogLevel, WebClient } from '@slack/web-api'
import { oneLine, timeLeft, type ReviewFacts } from './review-facts.js'

export interface SlackSettings {
  botToken: string
  signingSecret: string
  /** The Web API's base URL, ending in "/" (https://slack.com/api/ unless a test stands in for it). */
  apiUrl: string
}

/** Block Kit blocks, as plain JSON: the Web API takes them so. */
type Block = Record<string, unknown>

/** The action_id of the message's buttons and the callback_id of the rejection dialog. */
export const SLACK_ACTIONS = { approve: 'approve', reject: 'reject', open: 'open_inbox', rejectDialog: 'reject_request', commentBlock: 'comment' } as const

/** Slack's longest comment in the rejection dialog; the API takes 5000, Slack's text input 3000. */
const MAX_DIALOG_COMMENT = 3000

/**
 * Text for a mrkdwn field: &, < and > escaped as Slack asks, so that what the agent wrote cannot
 * become a link, a mention (<!channel>) or any other control sequence.
 */
export const mrkdwn = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

const plain = (text: string) => ({ type: 'plain_text', text, emoji: false })

function cut(text: string, max: number) {
  return text.length <= max ? text : `${text.slice(0, max - 60)}\n… (cut here: open the request in the inbox to read all of it)`
}

/** The blocks that describe the request, shared by the message and its update. */
function describe(facts: ReviewFacts, now: Date): Block[] {
  const left = timeLeft(facts.expiresAt, now)
  const fields = [
    ['Asked by', `${facts.requester}${facts.requesterIsAgent ? ' (agent)' : ''}`],
    ['For', facts.onBehalfOf ?? '—'],
    ['Action', facts.actionDescription],
    ['Time left', left ?? 'no deadline'],
    ...(facts.stage ? [['Stage', facts.stage]] : []),
  ].map(([label, value]) => ({ type: 'mrkdwn', text: `*${label}*\n${mrkdwn(oneLine(value!, 500))}` }))
  const action = facts.fields.map((f) => `*${mrkdwn(oneLine(f.label, 80))}*\n${mrkdwn(f.value)}`).join('\n')
  return [
    { type: 'header', text: plain(oneLine(`Approval needed: ${facts.title}`, 150)) },
    { type: 'section', fields },
    { type: 'section', text: { type: 'mrkdwn', text: cut(action || '_No params._', 3000) } },
  ]
}

/** The message a reviewer gets: the request, then Approve, Reject… and a link to the inbox. */
export function reviewMessage(requestId: string, facts: ReviewFacts, inbox: string, now: Date): { text: string; blocks: Block[] } {
  return {
    text: oneLine(`Approval needed: ${facts.title}`, 300),
    blocks: [
      ...describe(facts, now),
      {
        type: 'actions',
        block_id: 'decision',
        elements: [
          { type: 'button', action_id: SLACK_ACTIONS.approve, text: plain('Approve'), style: 'primary', value: requestId },
          { type: 'button', action_id: SLACK_ACTIONS.reject, text: plain('Reject…'), style: 'danger', value: requestId },
          { type: 'button', action_id: SLACK_ACTIONS.open, text: plain('Open in the inbox'), url: inbox },
        ],
      },
    ],
  }
}

/** The same message once it can no longer be decided from Slack: what happened instead of the buttons. */
export function outcomeMessage(facts: ReviewFacts, outcome: string, inbox: string, now: Date): { text: string; blocks: Block[] } {
  const [header, ...rest] = describe(facts, now)
  return {
    text: oneLine(`${outcome} ${facts.title}`, 300),
    blocks: [
      header!,
      { type: 'section', text: { type: 'mrkdwn', text: `*${mrkdwn(oneLine(outcome, 1000))}*` } },
      ...rest,
      { type: 'context', elements: [{ type: 'mrkdwn', text: `<${inbox}|Open in the inbox>` }] },
    ],
  }
}

/** The dialog Reject… opens: a reason for the agent (optional), then Reject. */
export function rejectDialog(requestId: string, title: string): Block {
  return {
    type: 'modal',
    callback_id: SLACK_ACTIONS.rejectDialog,
    private_metadata: requestId,
    title: plain('Reject the request'),
    submit: plain('Reject'),
    close: plain('Cancel'),
    blocks: [
      { type: 'section', text: plain(oneLine(title, 2000)) },
      {
        type: 'input',
        block_id: SLACK_ACTIONS.commentBlock,
        optional: true,
        label: plain('Why? (the agent is told)'),
        element: { type: 'plain_text_input', action_id: SLACK_ACTIONS.commentBlock, multiline: true, max_length: MAX_DIALOG_COMMENT },
      },
    ],
  }
}

export interface Slack {
  /** Posts a direct message to a Slack member (chat.postMessage with the member id as channel); the DM channel and ts, for updates. */
  post(slackUserId: string, message: { text: string; blocks: Block[] }): Promise<{ channel: string; ts: string }>
  /** Replaces a posted message (chat.update). */
  update(channel: string, ts: string, message: { text: string; blocks: Block[] }): Promise<void>
  /** Opens a dialog for the click that gave `triggerId` (views.open; Slack allows 3 s for it). */
  openDialog(triggerId: string, view: Block): Promise<void>
  /** Tells one member something in a channel, visible to them only (chat.postEphemeral). */
  tell(channel: string, slackUserId: string, text: string): Promise<void>
}

export function createSlack(settings: SlackSettings): Slack {
  const client = new WebClient(settings.botToken, {
    slackApiUrl: settings.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logLevel: LogLevel.ERROR,
  })
  return {
    async post(slackUserId, message) {
      const res = await client.chat.postMessage({ channel: slackUserId, text: message.text, blocks: message.blocks as never, unfurl_links: false, unfurl_media: false })
      if (!res.channel || !res.ts) throw new Error('chat.postMessage answered without channel or ts')
      return { channel: res.channel, ts: res.ts }
    },
    async update(channel, ts, message) {
      await client.chat.update({ channel, ts, text: message.text, blocks: message.blocks as never })
    },
    async openDialog(triggerId, view) {
      await client.views.open({ trigger_id: triggerId, view: view as never })
    },
    async tell(channel, slackUserId, text) {
      await client.chat.postEphemeral({ channel, user: slackUserId, text })
    },
  }
}

/** Slack's window for a request's timestamp, either way: older (or newer) requests are refused as replays. */
export const SLACK_SIGNATURE_WINDOW_SECONDS = 5 * 60

/**
 * Whether a request really comes from Slack (signing secret, version v0): `X-Slack-Signature` is
 * "v0=" and the hex HMAC-SHA256 of `v0:<timestamp>:<raw body>`, compared in constant time, and
 * `X-Slack-Request-Timestamp` is within five minutes of `now`.
 */
export function verifySlackSignature(
  signingSecret: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  rawBody: Buffer,
  now: Date,
): 'ok' | 'stale' | 'bad' {
  const { timestamp, signature } = headers
  if (!timestamp || !/^\d{1,12}$/.test(timestamp) || !signature) return 'bad'
  if (Math.abs(now.getTime() / 1000 - Number(timestamp)) > SLACK_SIGNATURE_WINDOW_SECONDS) return 'stale'
  const expected = Buffer.from(`v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:`).update(rawBody).digest('hex')}`)
  const given = Buffer.from(signature)
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'ok' : 'bad'
}
