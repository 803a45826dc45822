// The MCP commands' log: lines on stderr, never stdout, which is the protocol under stdio (a stray
// line there breaks the client's connection). Claude Desktop and Cursor show a server's stderr in
// their MCP logs.

/** How much the commands say: `debug` < `info` < `warn` < `error` < `silent`. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

/** A logger of the MCP gateway and server; each method writes one line. */
export interface Log {
  debug(message: string): void
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** Whether `value` names a level (APPROVALS_LOG_LEVEL). */
export const isLogLevel = (value: string): value is LogLevel => value in LEVELS

/**
 * A log writing `<time> <level> [<name>] <message>` lines to `stream` (stderr by default) at
 * `level` and above. Line breaks in a message are escaped: messages quote tool output and errors
 * of other processes, which must not forge lines of their own.
 */
export function createLog(name: string, level: LogLevel = 'info', stream: { write(text: string): unknown } = process.stderr): Log {
  const at = (lineLevel: Exclude<LogLevel, 'silent'>) => (message: string) => {
    if (LEVELS[lineLevel] < LEVELS[level]) return
    stream.write(`${new Date().toISOString()} ${lineLevel} [${name}] ${message.replace(/\r?\n/g, '\\n')}\n`)
  }
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }
}

/** A log that says nothing. */
export const silentLog: Log = { debug() {}, info() {}, warn() {}, error() {} }
