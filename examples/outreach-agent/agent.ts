// A scripted outreach agent (no LLM): for each lead it adds a contact to the CRM and drafts an
// intro email, then announces the campaign on social media. Every outside effect goes through the
// approvals service:
//
// - the intro emails are submitted to a worker (`worker.submit`): the agent does not wait for
//   them; the worker sends each one once it is approved, also if that happens while the agent is
//   down (it catches up when it starts again);
// - the announcement waits for its decision (`gate`), as an agent in a conversation would, and
//   tells what the reviewer said when it is rejected;
// - CRM contacts are records: the service itself creates them once approved.
//
// "Sending" appends to an outbox file (OUTBOX), keyed by the request id, so an email is in it
// once even if a worker dies after sending and the action runs again.
//
//   APPROVALS_URL=http://localhost:4000/graphql APPROVALS_TOKEN=... OUTBOX=outbox.log tsx examples/outreach-agent/agent.ts
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs'
import { ApprovalRejectedError, ApprovalsError, createApprovals } from '@approvals/sdk'

const url = process.env.APPROVALS_URL ?? 'http://localhost:4000/graphql'
const token = process.env.APPROVALS_TOKEN
const outbox = process.env.OUTBOX ?? 'outbox.log'
const paceMs = Number(process.env.AGENT_PACE_MS ?? 3000)
if (!token) {
  console.error('Set APPROVALS_TOKEN to the agent\'s API token (npm run demo does it for you).')
  process.exit(2)
}

const leads = [
  { id: 'lead-1', name: 'Jane Doe', email: 'jane@acme.test', company: 'Acme', note: 'asked for a quote at the trade fair' },
  { id: 'lead-2', name: 'Omar Haddad', email: 'omar@globex.test', company: 'Globex', note: 'downloaded the pricing sheet twice' },
  { id: 'lead-3', name: 'Mei Lin', email: 'mei@initech.test', company: 'Initech', note: 'runs a team of 40 support agents' },
  { id: 'lead-4', name: 'Lars Berg', email: 'ceo@umbrella.test', company: 'Umbrella', note: 'the CEO; no contact yet' },
]

const log = (part: string, message: string) => console.log(`[${part}] ${message}`)

/** "Sends" an email or a post: one line in the outbox per request, however often it runs. */
function deliver(kind: string, params: Record<string, unknown>, requestId: string | null): { messageId: string; alreadySent?: boolean } {
  const key = requestId ?? `direct-${Date.now()}`
  if (requestId && existsSync(outbox)) {
    const sent = readFileSync(outbox, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { id: string })
      .find((line) => line.id === key)
    if (sent) return { messageId: sent.id, alreadySent: true }
  }
  appendFileSync(outbox, JSON.stringify({ id: key, kind, at: new Date().toISOString(), ...params }) + '\n')
  return { messageId: key }
}

const approvals = createApprovals({ url, token })

const worker = approvals.worker({
  handlers: {
    send_email: (email: { to: string; subject: string }, { requestId }) => {
      const sent = deliver('email', email, requestId)
      log('outbox', sent.alreadySent ? `Already sent to ${email.to}` : `Sent "${email.subject}" to ${email.to}`)
      return sent
    },
  },
  onError: (error, { requestId }) => log('worker', `${requestId ?? ''} ${error instanceof Error ? error.message : String(error)}`),
})

const announce = approvals.gate('post_to_social', (post: { text: string; platform?: string }, { requestId }) => deliver('post', post, requestId), {
  summary: (post) => `Post: ${post.text.slice(0, 60)}`,
})

// record mutations take no idempotency key: the agent remembers which contacts it asked for
const crmState = `${outbox}.crm.json`
const askedForCrm = new Set<string>(existsSync(crmState) ? (JSON.parse(readFileSync(crmState, 'utf8')) as string[]) : [])

async function addToCrm(lead: (typeof leads)[number]) {
  if (askedForCrm.has(lead.id)) return
  const { createRecord } = await approvals.request(
    `mutation($input: CreateRecordInput!) { createRecord(input: $input) { record { id } approvalRequest { id status } } }`,
    { input: { module: 'crm', data: { name: lead.name, email: lead.email, company: lead.company, stage: 'lead' } } },
  )
  askedForCrm.add(lead.id)
  writeFileSync(crmState, JSON.stringify([...askedForCrm]))
  if (createRecord.record) log('agent', `CRM: added ${lead.name} (${lead.company})`)
  else log('agent', `CRM: adding ${lead.name} waits for approval`)
}

async function emailLead(lead: (typeof leads)[number]) {
  const email = {
    to: lead.email,
    subject: `${lead.company} x Approvals: a quick question`,
    body: `Hi ${lead.name.split(' ')[0]},\n\nI saw that you ${lead.note}. Would 20 minutes next week suit you?\n\nBest,\nSam`,
  }
  // a stable key: running the agent again finds the same request instead of asking twice
  const submitted = await worker.submit('send_email', email, {
    idempotencyKey: `outreach:${lead.id}:intro`,
    summary: `Intro email to ${lead.name} (${lead.company})`,
    context: { lead: lead.note, campaign: 'Q4 outreach' },
  })
  if (!submitted.approvalRequired) log('agent', `Email to ${lead.email}: no approval needed, sent`)
  else if (submitted.request.status === 'PENDING') log('agent', `Email to ${lead.email}: waits for approval`)
  else log('agent', `Email to ${lead.email}: already ${submitted.request.status.toLowerCase()}`)
}

async function announceCampaign() {
  try {
    await announce(
      { text: 'We are opening our Q4 pilot programme to ten support teams. Write to us!', platform: 'linkedin' },
      { idempotencyKey: 'outreach:announcement', onRequest: () => log('agent', 'Announcement waits for approval') },
    )
    log('agent', 'Announcement posted')
  } catch (error) {
    if (error instanceof ApprovalRejectedError) log('agent', `Announcement not posted: ${error.reviewer ?? 'a reviewer'} said "${error.comment ?? 'no'}"`)
    else if (error instanceof ApprovalsError && error.code === 'CLOSED') return
    else log('agent', `Announcement: ${error instanceof Error ? error.message : String(error)}`)
  }
}

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  await worker.stop()
  await approvals.close()
  log('agent', 'stopped')
  process.exit(0)
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)

log('agent', `working through ${leads.length} leads; approve or reject in the inbox, I send what you approve`)
void announceCampaign()
for (const lead of leads) {
  if (stopping) break
  try {
    await addToCrm(lead)
    await emailLead(lead)
  } catch (error) {
    log('agent', `${lead.name}: ${error instanceof Error ? error.message : String(error)}`)
  }
  await new Promise((resolve) => setTimeout(resolve, paceMs))
}
log('agent', 'all leads done; the worker keeps sending what gets approved (Ctrl-C to stop)')
