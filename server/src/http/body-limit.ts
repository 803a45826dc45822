import type { IncomingMessage, ServerResponse } from 'node:http'

/**
 * Reads a request body of at most `maxBytes`, before anything parses it: a Content-Length over
 * the limit is refused at once, and a body sent without one (chunked) is counted as it streams
 * and refused as soon as it passes the limit. Resolves with the body, or with undefined once a
 * 413 was sent (or the client went away).
 *
 * A refusal closes the connection after the answer, so the rest of an oversized upload is not read.
 */
export function readBodyWithin(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<Buffer | undefined> {
  const declared = req.headers['content-length']
  if (declared !== undefined && Number(declared) > maxBytes) {
    refuse(req, res, maxBytes)
    return Promise.resolve(undefined)
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let received = 0
    const onData = (chunk: Buffer) => {
      received += chunk.length
      if (received <= maxBytes) return void chunks.push(chunk)
      req.off('data', onData).off('end', onEnd).off('error', onError)
      refuse(req, res, maxBytes)
      resolve(undefined)
    }
    const onEnd = () => resolve(Buffer.concat(chunks, received))
    const onError = () => resolve(undefined)
    req.on('data', onData).once('end', onEnd).once('error', onError)
  })
}

function refuse(req: IncomingMessage, res: ServerResponse, maxBytes: number) {
  req.pause()
  res.statusCode = 413
  res.shouldKeepAlive = false
  res.setHeader('connection', 'close')
  res.setHeader('content-type', 'application/json; charset=utf-8')
  res.end(JSON.stringify({ errors: [{ message: `Request body too large: at most ${maxBytes} bytes.` }] }))
}
