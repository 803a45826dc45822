// Email to a reviewer: "Approval needed: <summary>", as text and HTML, with links to the request in
// the inbox and to the one-click decision page. Sent over SMTP (SMTP_URL) with nodemailer; the
// outbox (notifications.ts) retries what fails.
import { createTransport } from 'nodemailer'
import { html, trusted } from '../http/html.js'
import { oneLine, timeLeft, type ReviewFacts } from './review-facts.js'

export interface EmailSettings {
  /** smtp://user:pass@host:port or smtps://… */
  smtpUrl: string
  /** The From header, like "Approvals <approvals@example.com>". */
  from: string
}

export interface EmailMessage {
  to: string
  subject: string
  text: string
  html: string
}

export interface Mailer {
  /** Resolves once the SMTP server accepted the message; rejects with its error otherwise. */
  send(message: EmailMessage): Promise<void>
  close(): void
}

export function createMailer(settings: EmailSettings): Mailer {
  const transport = createTransport({
    url: settings.smtpUrl,
    // a slow or silent server fails the attempt (retried later) instead of holding up the outbox
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
  })
  return {
    async send(message) {
      await transport.sendMail({
        from: settings.from,
        to: message.to,
        subject: message.subject,
        text: message.text,
        html: message.html,
        // RFC 3834: out-of-office replies and other autoresponders stay silent
        headers: { 'Auto-Submitted': 'auto-generated' },
      })
    },
    close: () => transport.close(),
  }
}

export interface ReviewLinks {
  inbox: string
  decide: string
}

/**
 * The email that asks a reviewer to decide a request. Every text from the request (the agent's
 * summary and params) is escaped in the HTML part, and the subject is made one line, so the agent
 * can add neither markup nor headers.
 */
export function renderReviewEmail(facts: ReviewFacts, links: ReviewLinks, now: Date): Omit<EmailMessage, 'to'> {
  const left = timeLeft(facts.expiresAt, now)
  const deadline = facts.expiresAt ? `${left} (until ${facts.expiresAt.toISOString().replace('T', ' ').slice(0, 16)} UTC)` : 'no deadline'
  const who = `${facts.requester}${facts.requesterIsAgent ? ' (agent)' : ''}`
  const rows: [string, string][] = [
    ['Asked by', who],
    ['For', facts.onBehalfOf ?? '—'],
    ['Action', `${facts.actionDescription} (${facts.actionType})`],
    ['Time left', deadline],
    ...(facts.ruleName ? [['Rule', facts.ruleName] as [string, string]] : []),
    ...(facts.stage ? [['Stage', facts.stage] as [string, string]] : []),
  ]
  const subject = oneLine(`Approval needed: ${facts.title}`, 150)
  const text = [
    `${who} asks for approval${facts.onBehalfOf ? ` on behalf of ${facts.onBehalfOf}` : ''}:`,
    '',
    facts.title,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    '',
    'The action:',
    ...facts.fields.map((f) => `${f.label}: ${f.value.includes('\n') ? `\n${indent(f.value)}` : f.value}`),
    '',
    `Approve or reject (one click, comment optional): ${links.decide}`,
    `Open it in the inbox: ${links.inbox}`,
    '',
    'The decision link is yours alone and works once: do not forward this email.',
  ].join('\n')
  const cell = 'padding:4px 12px 4px 0;vertical-align:top;'
  const body = html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${subject}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1a1a1a;line-height:1.45;max-width:640px;margin:0 auto;padding:16px">
<p style="margin:0 0 4px;color:#555">${who} asks for approval${facts.onBehalfOf ? html` on behalf of ${facts.onBehalfOf}` : ''}</p>
<h1 style="font-size:20px;margin:0 0 16px">${facts.title}</h1>
<table role="presentation" style="border-collapse:collapse;margin:0 0 16px">${rows.map(([k, v]) => html`<tr><th scope="row" style="${trusted(cell)}text-align:left;color:#555;font-weight:600">${k}</th><td style="${trusted(cell)}">${v}</td></tr>`)}</table>
<h2 style="font-size:16px;margin:0 0 8px">The action</h2>
<table role="presentation" style="border-collapse:collapse;margin:0 0 20px;width:100%">${facts.fields.map(
    (f) =>
      html`<tr><th scope="row" style="${trusted(cell)}text-align:left;color:#555;font-weight:600;white-space:nowrap">${f.label}</th><td style="${trusted(cell)}white-space:pre-wrap;word-break:break-word">${f.value}</td></tr>`,
  )}</table>
<p style="margin:0 0 12px"><a href="${links.decide}" style="display:inline-block;background:#1d4ed8;color:#ffffff;padding:10px 18px;border-radius:6px;text-decoration:none;font-weight:600">Approve or reject</a>
&nbsp; <a href="${links.inbox}" style="color:#1d4ed8">Open in the inbox</a></p>
<p style="margin:16px 0 0;font-size:13px;color:#555">The decision link is yours alone and works once: do not forward this email. Opening it changes nothing until you press Approve or Reject.</p>
</body></html>`
  return { subject, text, html: body.value }
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((line) => `    ${line}`)
    .join('\n')
