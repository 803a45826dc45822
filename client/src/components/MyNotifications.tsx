// The signed-in person's own notification setting, in the header: whether requests they are asked
// to decide come by email too (setMyNotifications), and whether their Slack account is linked
// (only a directory manager links it).
import { useEffect, useId, useState } from 'react'
import { useMutation, useQuery } from 'urql'
import { graphql } from '../gql'
import { errorMessage } from '../lib/format'

const MyNotificationsQuery = graphql(`
  query MyNotifications {
    viewer {
      principal {
        __typename
        id
        ... on User {
          notifyByEmail
          slackUserId
        }
      }
    }
  }
`)

const SetMyNotifications = graphql(`
  mutation SetMyNotifications($email: Boolean!) {
    setMyNotifications(email: $email) {
      id
      notifyByEmail
    }
  }
`)

export function MyNotifications() {
  const [{ data }] = useQuery({ query: MyNotificationsQuery })
  const [state, set] = useMutation(SetMyNotifications)
  const hint = useId()
  const me = data?.viewer.principal
  const saved = me?.__typename === 'User' ? me.notifyByEmail : undefined
  // the box follows the click at once; what the server saved (or a refusal) has the last word
  const [email, setEmail] = useState(saved)
  useEffect(() => setEmail(saved), [saved])
  if (!me || me.__typename !== 'User') return null
  const change = async (next: boolean) => {
    setEmail(next)
    const res = await set({ email: next }, { additionalTypenames: ['User'] })
    if (res.error) setEmail(saved)
  }
  return (
    <details className="my-notifications" data-overlay>
      <summary>Notifications</summary>
      <div className="my-notifications-panel">
        <label className="check">
          <input
            type="checkbox"
            checked={email ?? me.notifyByEmail}
            disabled={state.fetching}
            aria-describedby={hint}
            onChange={(e) => void change(e.target.checked)}
          />
          Email me requests to decide
        </label>
        <p id={hint} className="hint">
          {me.slackUserId ? `They also come to Slack (member ${me.slackUserId}).` : 'Slack is not linked: a directory manager can add your Slack member ID.'}
        </p>
        {state.error && (
          <p className="error" role="alert">
            {errorMessage(state.error)}
          </p>
        )}
      </div>
    </details>
  )
}
