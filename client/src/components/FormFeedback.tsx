// What a form says after an action: the API's error, if any, as an alert, and the status line
// (announced to screen readers) with what was done.
import type { CombinedError } from 'urql'
import { errorMessage } from '../lib/format'

export function FormFeedback({ error, status }: { error?: CombinedError | null; status: string }) {
  return (
    <>
      {error && (
        <p className="error" role="alert">
          {errorMessage(error)}
        </p>
      )}
      <p role="status" className="hint status-line">
        {status}
      </p>
    </>
  )
}
