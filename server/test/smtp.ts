// A real SMTP server for the tests (the smtp-server package) on a free loopback port, keeping the
// messages it accepts, parsed with mailparser.
import type { AddressInfo } from 'node:net'
import { simpleParser, type ParsedMail } from 'mailparser'
import { SMTPServer } from 'smtp-server'

export type SmtpReceiver = Awaited<ReturnType<typeof startSmtp>>

/** A real SMTP server on a free loopback port that keeps what it receives (and refuses messages when told to). */
export async function startSmtp(options: { delayMs?: number } = {}) {
  const messages: ParsedMail[] = []
  let refusals = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        async (mail) => {
          // a mail server that takes its time, so that concurrent senders overlap
          if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs))
          if (refusals > 0) {
            refusals--
            return callback(Object.assign(new Error('Mailbox busy, try again later'), { responseCode: 451 }))
          }
          messages.push(mail)
          callback()
        },
        (err: Error) => callback(err),
      )
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.server.address() as AddressInfo
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    refuseNext: (n: number) => void (refusals = n),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

