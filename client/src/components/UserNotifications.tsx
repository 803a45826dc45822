// How a person is told of the requests they are asked to decide: by email (on or off), and in
// Slack (their member ID, which also lets their Slack clicks decide as them). Directory managers
// set it for anyone, in a person's Manage panel on People and agents.
import { FormFeedback } from './FormFeedback'
import { useEffect, useId, useState, type FormEvent } from 'react'
import { useMutation } from 'urql'
import { getFragmentData, graphql, type FragmentType } from '../gql'

export const UserNotificationsFields = graphql(`
  fragment UserNotificationsFields on User {
    id
    name
    notifyByEmail
    slackUserId
  }
`)

const UpdateNotifications = graphql(`
  mutation UpdateUserNotifications($id: ID!, $input: UpdateUserInput!) {
    updateUser(id: $id, input: $input) {
      ...UserNotificationsFields
    }
  }
`)

/** As the server checks it: U or W, then capitals and digits ("Copy member ID" in a Slack profile). */
export const SLACK_MEMBER_ID = /^[UW][A-Z0-9]{2,20}$/

export function UserNotifications(props: { user: FragmentType<typeof UserNotificationsFields> }) {
  const user = getFragmentData(UserNotificationsFields, props.user)
  const [email, setEmail] = useState(user.notifyByEmail)
  const [slackId, setSlackId] = useState(user.slackUserId ?? '')
  // what was saved is the new starting point
  useEffect(() => {
    setEmail(user.notifyByEmail)
    setSlackId(user.slackUserId ?? '')
  }, [user.notifyByEmail, user.slackUserId])
  const [status, setStatus] = useState('')
  const [state, update] = useMutation(UpdateNotifications)
  const slackInput = useId()
  const trimmed = slackId.trim().toUpperCase()
  const invalid = trimmed !== '' && !SLACK_MEMBER_ID.test(trimmed)

  async function save(e: FormEvent) {
    e.preventDefault()
    if (invalid) return
    setStatus('')
    const res = await update({ id: user.id, input: { notifyByEmail: email, slackUserId: trimmed || null } }, { additionalTypenames: ['User'] })
    if (res.data) {
      const saved = getFragmentData(UserNotificationsFields, res.data.updateUser)
      setStatus(`Saved: email ${saved.notifyByEmail ? 'on' : 'off'}, Slack ${saved.slackUserId ?? 'not linked'}.`)
    }
  }

  return (
    <form onSubmit={save} aria-label={`Notifications of ${user.name}`}>
      <h3>Notifications</h3>
      <label className="check">
        <input type="checkbox" checked={email} onChange={(e) => setEmail(e.target.checked)} />
        Email notifications
      </label>
      <label htmlFor={slackInput}>Slack member ID</label>
      <input
        id={slackInput}
        value={slackId}
        onChange={(e) => setSlackId(e.target.value)}
        placeholder="U024BE7LH"
        autoComplete="off"
        spellCheck={false}
        maxLength={21}
        aria-invalid={invalid || undefined}
        aria-describedby={`${slackInput}-hint`}
      />
      <p id={`${slackInput}-hint`} className={invalid ? 'error' : 'hint'}>
        {invalid
          ? 'A member ID starts with U or W, then capitals and digits.'
          : `In Slack: ${user.name}'s profile, ⋮, Copy member ID. Requests then come as Slack messages, and their clicks there decide as them. Empty: not linked.`}
      </p>
      <div className="buttons">
        <button type="submit" disabled={state.fetching || invalid}>
          Save notifications
        </button>
      </div>
      <FormFeedback error={state.error} status={status} />
    </form>
  )
}
