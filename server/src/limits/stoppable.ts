import { Repeater } from 'graphql-yoga'

const STOPPED = Symbol('stopped')

/**
 * The same stream, except that `return()` (a client's complete, a closing socket) ends it at
 * once. An async generator parked on an `await` sees `return()` only when it next yields, which
 * for an idle subscription may be never: until then graphql-ws would neither report the
 * operation complete (so it would stay counted against its connection and principal) nor finish
 * closing the socket. The source is still told to return, and ends when it wakes.
 */
export function stoppable<T>(source: AsyncIterable<T>): AsyncIterableIterator<T> {
  return new Repeater<T>(async (push, stop) => {
    const iterator = source[Symbol.asyncIterator]()
    const stopped = stop.then((): typeof STOPPED => STOPPED)
    void stopped.then(() => iterator.return?.()).catch(() => {})
    for (;;) {
      const next = await Promise.race([iterator.next(), stopped])
      if (next === STOPPED || next.done) break
      await push(next.value)
    }
    stop()
  })
}
