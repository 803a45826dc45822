// The notification outbox's dispatcher: sends what the triggers of the notifications migration
// wrote (an email or a Slack message to each person who became a reviewer, and the update of a
// Slack message once it is out of date), after the change committed, with retries.
//
// Rows are claimed with a lease (FOR UPDATE SKIP LOCKED, then leaseId and leaseExpiresAt), so
// several instances never send one row at the same time, and no transaction stays open while a
// mail server or Slack answers; a row whose lease ran out (its instance died) is taken over. So a
// notification is sent at least once: an instance that dies after sending but before recording it
// leaves it to be sent again. Failures are retried by the shared schedule (retry-schedule.ts),
// then FAILED. A REVIEW notification whose request is no longer pending, or whose person is no
// longer its reviewer, by the time its turn comes is SKIPPED, as is one of a channel that is off
// (the triggers write none for a channel that is off; these were written while it was on).
import { createHash, randomBytes } from 'node:crypto'
import { v7 as uuidv7 } from 'uuid'
import { findActionType, type ActionTypeRegistry } from '../approvals/catalogue.js'
import type { Notifier } from '../approvals/notify.js'
import type { Clock } from '../clock.js'
import type { Prisma, PrismaClient } from '../db.js'
import type { Logger } from '../logger.js'
import { startPeriodicTask, yieldToEventLoop } from '../periodic.js'
import { nextAttemptAt } from './retry-schedule.js'
import { renderReviewEmail, type EmailSettings, type Mailer } from './email.js'
import { inboxLink, outcomeText, REVIEW_INCLUDE, reviewFacts, type ReviewedRequest } from './review-facts.js'
import { outcomeMessage, reviewMessage, type Slack, type SlackSettings } from './slack.js'

export interface NotificationSettings {
  /** Where people reach the service (APPROVALS_PUBLIC_URL), without a trailing slash: the links' base. */
  publicUrl: string
  /** Email (SMTP_URL, APPROVALS_EMAIL_FROM); off when not given. */
  email?: EmailSettings
  /** Slack (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL); off when not given. */
  slack?: SlackSettings
  /**
   * How often each instance looks for due notifications (retries, and those another instance
   * wrote); besides, a pass runs after each change this instance makes. 0: no timer.
   */
  intervalMs?: number
  /** The retries' jitter (tests pin it). */
  random?: () => number
}

/** What one pass did, row by row. */
export interface DispatchResult {
  sent: number
  skipped: number
  /** Failed, to be tried again. */
  retrying: number
  /** Failed for the last time. */
  failed: number
}

export interface NotificationDispatcher {
  /** Sends every due notification now, after any pass under way; resolves with what it did. */
  runOnce(): Promise<DispatchResult>
  /** Asks for a pass soon (after a change was committed); never throws. */
  wake(): void
  /**
   * Resolves once the database knows which channels this instance sends (so that the triggers
   * write rows for those only); the app waits for it before it listens. Never rejects: a failure
   * is logged, and the next pass tries again.
   */
  ready(): Promise<void>
  stop(): Promise<void>
}

/** Rows one claim takes; a pass claims until none are due (at most MAX_BATCHES times), and the next pass follows when more are. */
const BATCH = 20
const MAX_BATCHES = 50
/** How long a claimed row is an instance's own: longer than the slowest attempt (SMTP's timeouts add up to 50 s). */
const LEASE_MS = 2 * 60_000
/** A decision link never outlives this, even for a request without a deadline. */
export const MAX_DECISION_LINK_MS = 30 * 24 * 3600_000

const NOTIFICATION_INCLUDE = {
  user: { select: { email: true, notifyByEmail: true, slackUserId: true } },
  reviewer: {
    select: {
      active: true,
      // a Slack update needs the message it updates
      notifications: { where: { channel: 'SLACK', kind: 'REVIEW' }, select: { slackChannel: true, slackTs: true } },
    },
  },
  request: { include: { ...REVIEW_INCLUDE, votes: { select: { userId: true } } } },
} satisfies Prisma.NotificationInclude

type Claimed = Prisma.NotificationGetPayload<{ include: typeof NOTIFICATION_INCLUDE }>

type Outcome =
  | { kind: 'sent'; slack?: { channel: string; ts: string } }
  | { kind: 'skipped'; reason: string }
  | { kind: 'failed'; error: string }

/** The secret of a decision link and what is stored of it (its SHA-256, hex). */
export function newDecisionToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url')
  return { token, hash: hashDecisionToken(token) }
}

export const hashDecisionToken = (token: string) => createHash('sha256').update(token).digest('hex')

const errorText = (err: unknown) => {
  // the Web API's error code (channel_not_found, invalid_auth…), or the mail server's answer
  const e = err as { data?: { error?: unknown } }
  const text = typeof e?.data?.error === 'string' ? `Slack: ${e.data.error}` : e instanceof Error ? e.message : String(err)
  return text.slice(0, 1000)
}

/** The columns of a row that is no longer pending. */
const done = (status: 'SENT' | 'SKIPPED' | 'FAILED') => ({ status, nextAttemptAt: null, leaseId: null, leaseExpiresAt: null })

export function startNotifications(options: {
  prisma: PrismaClient
  clock: Clock
  log: Logger
  settings: NotificationSettings
  mailer?: Mailer
  slack?: Slack
  actionTypes?: ActionTypeRegistry
  /** Told of each attempt's outcome (the metrics count them). */
  onDelivered?: (channel: 'email' | 'slack', outcome: 'succeeded' | 'failed' | 'given_up' | 'skipped') => void
}): NotificationDispatcher {
  const { prisma, clock, log, settings, mailer, slack } = options
  const random = settings.random ?? Math.random
  if (!mailer) log.info('email notifications are off: SMTP_URL is not set')
  if (!slack) log.info('Slack is off: SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are not set')

  const channels = [...(mailer ? ['EMAIL'] : []), ...(slack ? ['SLACK'] : [])]
  const off = [...(mailer ? [] : ['EMAIL']), ...(slack ? [] : ['SLACK'])]

  /**
   * Tells the database which channels are on, for every instance: the triggers write no rows for
   * a channel that is off. All instances share the service's settings; when one starts with a
   * channel switched, that applies from then on, and is logged.
   */
  async function announceChannels(): Promise<void> {
    const switched = await prisma.$queryRaw<{ channel: string; enabled: boolean }[]>`
      INSERT INTO "NotificationChannelState" ("channel", "enabled", "updatedAt")
      VALUES ('EMAIL', ${mailer !== undefined}, now()), ('SLACK', ${slack !== undefined}, now())
      ON CONFLICT ("channel") DO UPDATE SET "enabled" = EXCLUDED."enabled", "updatedAt" = EXCLUDED."updatedAt"
        WHERE "NotificationChannelState"."enabled" IS DISTINCT FROM EXCLUDED."enabled"
      RETURNING "channel"::text AS "channel", "enabled"`
    for (const { channel, enabled } of switched) {
      const name = channel === 'EMAIL' ? 'email' : 'Slack'
      log.info({ channel, enabled }, enabled ? `${name} notifications are on: new reviewers get them` : `${name} notifications are off: none are written for new reviewers`)
    }
  }
  let announced: Promise<void> | undefined
  const announce = () =>
    (announced ??= announceChannels().catch((err: unknown) => {
      announced = undefined
      throw err
    }))
  const ready = () => announce().catch((err: unknown) => log.error({ err }, 'could not record which notification channels are on; the next pass tries again'))
  void ready()

  /** Marks the due notifications of the channels that are off SKIPPED, all in one statement. */
  async function skipChannelsOff(now: Date): Promise<number> {
    if (off.length === 0) return 0
    const at = now.toISOString()
    return prisma.$executeRaw`
      UPDATE "Notification" SET "status" = 'SKIPPED', "nextAttemptAt" = NULL, "leaseId" = NULL, "leaseExpiresAt" = NULL,
        "lastError" = CASE "channel" WHEN 'EMAIL' THEN 'Email is off (SMTP_URL is not set).' ELSE 'Slack is off (SLACK_BOT_TOKEN is not set).' END
      WHERE "status" = 'PENDING' AND "channel"::text = ANY(${off}::text[]) AND "nextAttemptAt" <= ${at}::timestamp`
  }

  /** Claims up to BATCH due rows of the channels that are on, under a fresh lease; null when none are due. */
  async function claim(now: Date): Promise<{ lease: string; rows: Claimed[] } | null> {
    if (channels.length === 0) return null
    const lease = uuidv7()
    const at = now.toISOString()
    const ids = await prisma.$queryRaw<{ id: string }[]>`
      WITH due AS (
        SELECT "id" FROM "Notification"
        WHERE "status" = 'PENDING' AND "channel"::text = ANY(${channels}::text[]) AND "nextAttemptAt" <= ${at}::timestamp
          AND ("leaseExpiresAt" IS NULL OR "leaseExpiresAt" <= ${at}::timestamp)
        ORDER BY "nextAttemptAt", "id"
        LIMIT ${BATCH}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE "Notification" n SET "leaseId" = ${lease}::uuid, "leaseExpiresAt" = ${new Date(now.getTime() + LEASE_MS).toISOString()}::timestamp
      FROM due WHERE n."id" = due."id"
      RETURNING n."id"::text AS "id"`
    if (ids.length === 0) return null
    const rows = await prisma.notification.findMany({ where: { id: { in: ids.map((r) => r.id) }, leaseId: lease }, include: NOTIFICATION_INCLUDE, orderBy: { nextAttemptAt: 'asc' } })
    return { lease, rows }
  }

  /** Why a REVIEW notification is no longer to be sent, if it is not. */
  function staleReview(row: Claimed, now: Date): string | null {
    const { request } = row
    if (request.status !== 'PENDING') return `The request is ${request.status.toLowerCase()}.`
    if (request.expiresAt && request.expiresAt <= now) return 'The request has expired.'
    if (!row.reviewer.active) return 'No longer a reviewer of the request.'
    return null
  }

  const factsOf = async (request: ReviewedRequest) => reviewFacts(request, await findActionType(prisma, request.actionType, options.actionTypes))

  async function sendEmail(row: Claimed, now: Date): Promise<Outcome> {
    if (!mailer) return { kind: 'skipped', reason: 'Email is off (SMTP_URL is not set).' }
    const stale = staleReview(row, now)
    if (stale) return { kind: 'skipped', reason: stale }
    if (!row.user.notifyByEmail) return { kind: 'skipped', reason: 'The user turned email notifications off.' }
    const { request } = row
    // each attempt makes a new link and replaces the stored one: only the link last sent works
    const { token, hash } = newDecisionToken()
    const cap = now.getTime() + MAX_DECISION_LINK_MS
    const expiresAt = new Date(Math.min(request.expiresAt?.getTime() ?? cap, cap))
    await prisma.decisionToken.upsert({
      where: { notificationId: row.id },
      create: { tokenHash: hash, requestId: request.id, userId: row.userId, notificationId: row.id, expiresAt, createdAt: now },
      update: { tokenHash: hash, expiresAt, usedAt: null, createdAt: now },
    })
    const facts = await factsOf(request)
    const message = renderReviewEmail(facts, { inbox: inboxLink(settings.publicUrl, facts.globalId), decide: `${settings.publicUrl}/decide/${token}` }, now)
    await mailer.send({ to: row.user.email, ...message })
    return { kind: 'sent' }
  }

  async function sendSlack(row: Claimed, now: Date): Promise<Outcome> {
    if (!slack) return { kind: 'skipped', reason: 'Slack is off (SLACK_BOT_TOKEN is not set).' }
    const { request } = row
    const facts = await factsOf(request)
    const inbox = inboxLink(settings.publicUrl, facts.globalId)
    if (row.kind === 'REVIEW') {
      const stale = staleReview(row, now)
      if (stale) return { kind: 'skipped', reason: stale }
      if (!row.user.slackUserId) return { kind: 'skipped', reason: 'The user has no Slack member id any more.' }
      return { kind: 'sent', slack: await slack.post(row.user.slackUserId, reviewMessage(request.id, facts, inbox, now)) }
    }
    const message = row.reviewer.notifications[0]
    if (!message?.slackChannel || !message.slackTs) return { kind: 'skipped', reason: 'No Slack message to update.' }
    let update
    if (request.status !== 'PENDING') update = outcomeMessage(facts, outcomeText(request), inbox, now)
    else if (!row.reviewer.active) {
      const voted = request.votes.some((v) => v.userId === row.userId)
      update = outcomeMessage(facts, voted ? 'You approved; the request waits for the other approvals it needs.' : 'No longer yours to decide: it went to another reviewer.', inbox, now)
    } else update = reviewMessage(request.id, facts, inbox, now)
    await slack.update(message.slackChannel, message.slackTs, update)
    return { kind: 'sent' }
  }

  /** Records a posted Slack message; if it is already out of date, its update is due at once. */
  async function recordSlackMessage(row: Claimed, lease: string, posted: { channel: string; ts: string }, now: Date): Promise<boolean> {
    return prisma.$transaction(async (tx) => {
      // under the request's and reviewer's row locks: a decision (or hand-over) either committed
      // before, and is seen here, or waits, and its trigger then sees this message's ts
      const [state] = await tx.$queryRaw<{ status: string; active: boolean }[]>`
        SELECT r."status"::text AS "status", v."active" FROM "ApprovalRequest" r, "ApprovalReviewer" v
        WHERE r."id" = ${row.requestId}::uuid AND v."id" = ${row.reviewerId}::uuid
        FOR SHARE OF r, v`
      const { count } = await tx.notification.updateMany({
        where: { id: row.id, leaseId: lease },
        data: { ...done('SENT'), attempts: row.attempts + 1, sentAt: now, slackChannel: posted.channel, slackTs: posted.ts, lastError: null },
      })
      if (count === 1 && state && (state.status !== 'PENDING' || !state.active)) {
        const due = { status: 'PENDING' as const, attempts: 0, nextAttemptAt: now, leaseId: null, leaseExpiresAt: null, lastError: null }
        await tx.notification.upsert({
          where: { reviewerId_channel_kind: { reviewerId: row.reviewerId, channel: 'SLACK', kind: 'OUTCOME' } },
          create: { requestId: row.requestId, userId: row.userId, reviewerId: row.reviewerId, channel: 'SLACK', kind: 'OUTCOME', createdAt: now, ...due },
          update: due,
        })
      }
      return count === 1
    })
  }

  async function deliver(row: Claimed, lease: string, now: Date, result: DispatchResult) {
    let outcome: Outcome
    try {
      outcome = row.channel === 'EMAIL' ? await sendEmail(row, now) : await sendSlack(row, now)
    } catch (err) {
      outcome = { kind: 'failed', error: errorText(err) }
    }
    const mine = { id: row.id, leaseId: lease }
    const channel = row.channel === 'EMAIL' ? 'email' : 'slack'
    options.onDelivered?.(channel, outcome.kind === 'sent' ? 'succeeded' : outcome.kind === 'skipped' ? 'skipped' : nextAttemptAt(row.attempts + 1, now, random) ? 'failed' : 'given_up')
    switch (outcome.kind) {
      case 'sent':
        if (outcome.slack) await recordSlackMessage(row, lease, outcome.slack, now)
        else await prisma.notification.updateMany({ where: mine, data: { ...done('SENT'), attempts: row.attempts + 1, sentAt: now, lastError: null } })
        result.sent++
        return
      case 'skipped':
        await prisma.notification.updateMany({ where: mine, data: { ...done('SKIPPED'), lastError: outcome.reason } })
        result.skipped++
        return
      case 'failed': {
        const attempts = row.attempts + 1
        const next = nextAttemptAt(attempts, now, random)
        log.warn({ notificationId: row.id, channel: row.channel, kind: row.kind, attempts, error: outcome.error, retryAt: next }, 'notification not sent')
        await prisma.notification.updateMany({
          where: mine,
          data: next ? { attempts, lastError: outcome.error, nextAttemptAt: next, leaseId: null, leaseExpiresAt: null } : { ...done('FAILED'), attempts, lastError: outcome.error },
        })
        if (next) result.retrying++
        else result.failed++
      }
    }
  }

  /**
   * Claims and sends due rows, BATCH at a time, at most MAX_BATCHES times, with the event loop's
   * turn between two claims; `more` when the last claim was full (more rows may be due).
   */
  async function pass(): Promise<{ result: DispatchResult; more: boolean }> {
    await announce()
    const result: DispatchResult = { sent: 0, skipped: await skipChannelsOff(clock.now()), retrying: 0, failed: 0 }
    let more = false
    for (let i = 0; i < MAX_BATCHES; i++) {
      if (i > 0) await yieldToEventLoop()
      const now = clock.now()
      const claimed = await claim(now)
      more = (claimed?.rows.length ?? 0) >= BATCH
      if (!claimed) break
      for (const row of claimed.rows) {
        try {
          await deliver(row, claimed.lease, now, result)
        } catch (err) {
          // recording failed (the database): the lease runs out and the row is tried again
          log.error({ err, notificationId: row.id }, 'could not record a notification')
        }
      }
    }
    if (result.sent + result.skipped + result.retrying + result.failed > 0) log.debug(result, 'notifications dispatched')
    return { result, more }
  }

  // one pass at a time: after each change (wake), every `intervalMs`, and when runOnce() asks
  const task = startPeriodicTask({ name: 'notification dispatcher', log, intervalMs: settings.intervalMs ?? 0, pass, more: (p) => p.more })
  return {
    runOnce: async () => (await task.runOnce()).result,
    // with every channel off there is nothing to send: the timer's passes mark the rows skipped
    wake: () => void (channels.length > 0 && task.wake()),
    ready,
    async stop() {
      await task.stop()
      mailer?.close()
    },
  }
}

/** The notifier, with a dispatcher pass after each change it publishes (the triggers may have written notifications). */
export function wakingNotifier(notifier: Notifier, dispatcher: Pick<NotificationDispatcher, 'wake'>): Notifier {
  return {
    publish(change) {
      notifier.publish(change)
      dispatcher.wake()
    },
    async changed(requestId) {
      await notifier.changed(requestId)
      dispatcher.wake()
    },
    readyToRun: (requestId) => notifier.readyToRun(requestId),
  }
}
