// The facts a rule's conditions may test for one action type, as the server offers them.
import { useQuery } from 'urql'
import { graphql } from '../gql'
import type { ConditionFact } from './conditions'

const ConditionFactsQuery = graphql(`
  query ConditionFacts($key: String!) {
    actionType(key: $key) {
      key
      conditionFacts {
        path
        label
        kind
        operators
        choices
      }
    }
  }
`)

/** The condition facts of the action type `key`; undefined while they load. */
export function useConditionFacts(key: string): readonly ConditionFact[] | undefined {
  const [{ data, fetching }] = useQuery({ query: ConditionFactsQuery, variables: { key } })
  if (fetching && !data) return undefined
  return data?.actionType?.conditionFacts ?? []
}
