// A rule's switch in the rules list. Switching a rule off lets through, with nobody asked, every
// action it gated: one click must not do that at once. It waits out the undo window a decision
// does (lib/decisions.tsx, `hold`), with a toast to take it back, or a second click; switching a
// rule on only gates more, and is saved at once.
import { useEffect, useState } from 'react'
import { useClient } from 'urql'
import { useDecisions } from '../lib/decisions'
import { errorMessage } from '../lib/format'
import { UNDO_MS } from '../lib/timing'
import { SaveRule, type RuleDraft } from './RuleEditor'

const UPDATE_RULE = 'mutation($id: ID!, $input: ApprovalRuleInput!) { updateApprovalRule(id: $id, input: $input) { id } }'

/** The Enabled box of a rule; `draft` gives the input that recreates the rule as it is. */
export function RuleSwitch({ id, name, enabled, version, draft }: { id: string; name: string; enabled: boolean; version: number; draft: () => RuleDraft }) {
  const client = useClient()
  const decisions = useDecisions()
  const key = `rule:${id}`
  const holding = decisions.held.has(key)
  // sent, until the list read again shows the rule as saved
  const [saving, setSaving] = useState(false)
  useEffect(() => setSaving(false), [enabled, version])
  const save = async (on: boolean) => {
    setSaving(true)
    const result = await client.mutation(SaveRule, { id, input: { ...draft(), enabled: on } }, { additionalTypenames: ['ApprovalRule'] }).toPromise()
    if (result.error) setSaving(false)
    return result.error ? `Could not switch “${name}” ${on ? 'on' : 'off'}: ${errorMessage(result.error)}` : null
  }
  return (
    <label className="rule-enabled">
      <input
        type="checkbox"
        checked={enabled && !holding && !saving}
        aria-label={`${name} enabled`}
        onChange={(e) => {
          if (holding) return decisions.undo(key)
          if (e.target.checked) return void save(true)
          decisions.hold({
            key,
            text: `Rule “${name}” is switched off in ${UNDO_MS / 1000} seconds: what it gates then goes ahead without approval.`,
            undone: `Rule “${name}” stays on.`,
            send: () => save(false),
            onLeave: { query: UPDATE_RULE, variables: { id, input: { ...draft(), enabled: false } } },
          })
        }}
      />
      Enabled
    </label>
  )
}
