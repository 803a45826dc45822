import type { ResourceType } from '../generated/prisma/client.js'

/** The action types rules can gate, each with the resource type it belongs to. */
export const ACTION_TYPES = [
  { key: 'send_email', resourceType: 'AGENT_ACTION', description: 'Send an email' },
  { key: 'post_to_social', resourceType: 'AGENT_ACTION', description: 'Post to a social media account' },
  { key: 'create_landing_page', resourceType: 'AGENT_ACTION', description: 'Publish a landing page' },
  { key: 'browse_website', resourceType: 'AGENT_ACTION', description: 'Drive a browser on a website' },
  { key: 'create_record', resourceType: 'RECORD_MUTATION', description: 'Create a record' },
  { key: 'update_record', resourceType: 'RECORD_MUTATION', description: 'Update a record' },
] as const satisfies readonly { key: string; resourceType: ResourceType; description: string }[]

export type ActionType = (typeof ACTION_TYPES)[number]

export function findActionType(key: string): ActionType | undefined {
  return ACTION_TYPES.find((a) => a.key === key)
}
