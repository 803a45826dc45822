// What a reviewer should look at before deciding a request together with others (a decision on
// several): what it would do that is hard to take back. A tool its MCP server says may destroy
// things, money, a record changing hands, something made public. Read from the request as it
// would run: its action type, its params (a reviewer's earlier edit, if any), the tool as the
// gateway described it, and for a record update who owns the record now and who would.
import { toolInfo } from '../components/ParamsView'

export type RiskKind = 'destructive' | 'money' | 'owner' | 'public'

export interface Risk {
  kind: RiskKind
  /** The risk in words, for the reviewer. */
  text: string
}

type Person = { id: string; name: string } | null | undefined

/** What the risks are read from: the request's fields the inbox reads for a decision on several. */
export interface RiskSubject {
  actionType: string
  /** The params as they would run. */
  params: unknown
  context?: unknown
  proposedOwner?: Person
  /** The record an update concerns; null when the reviewer may not read it. */
  record?: { owner?: Person } | null
}

const isObject = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value)

/** The last word of a field's name says it is money: amount, unitPrice, total_cost, feeCents. */
const MONEY_WORDS = new Set(['amount', 'amounts', 'price', 'prices', 'cost', 'costs', 'total', 'fee', 'fees', 'payment', 'charge', 'refund', 'payout', 'salary', 'budget', 'spend', 'balance', 'cents'])
const lastWord = (key: string) => key.split(/[_\-\s]+|(?<=[a-z0-9])(?=[A-Z])/).filter(Boolean).at(-1)?.toLowerCase() ?? ''
/** A number, or text that reads as an amount ("1200", "$1,200.50", "1 200 EUR"). */
const amountLike = (value: unknown) =>
  (typeof value === 'number' && Number.isFinite(value)) || (typeof value === 'string' && /^\s*[-+]?[$€£¥]?\s*\d[\d,. ]*\s*(?:[A-Za-z]{3}|[$€£¥])?\s*$/.test(value))

/** Money the params name: each amount-like field (at most 3), with the currency beside it if there is one. */
function amounts(params: unknown): string[] {
  const found: string[] = []
  const walk = (value: unknown, depth: number) => {
    if (found.length >= 3 || depth > 4) return
    if (Array.isArray(value)) return value.slice(0, 20).forEach((v) => walk(v, depth + 1))
    if (!isObject(value)) return
    const currency = Object.entries(value).find(([k, v]) => /currency/i.test(k) && typeof v === 'string')?.[1] as string | undefined
    for (const [key, v] of Object.entries(value)) {
      if (found.length >= 3) return
      const money = MONEY_WORDS.has(lastWord(key)) || (currency !== undefined && /^(value|sum)$/i.test(key))
      if (money && amountLike(v)) found.push(`${key} ${String(v).trim()}${currency ? ` ${currency}` : ''}`)
      else walk(v, depth + 1)
    }
  }
  walk(params, 0)
  return found
}

/**
 * The risks of a request, in the order a reviewer reads them. A call_tool is destructive unless
 * its server says otherwise: by MCP's defaults a tool is not read-only and may destroy
 * (destructiveHint defaults to true), so a tool without annotations counts as one that may.
 */
export function risksOf(request: RiskSubject): Risk[] {
  const risks: Risk[] = []
  const params = isObject(request.params) ? request.params : {}
  if (request.actionType === 'call_tool') {
    const hints = toolInfo(request.params, request.context)?.annotations
    if (hints?.readOnlyHint !== true) {
      if (hints?.destructiveHint === true) risks.push({ kind: 'destructive', text: 'Its server marks the tool as destructive: it may change or delete things' })
      else if (hints?.destructiveHint !== false) risks.push({ kind: 'destructive', text: 'Its server does not say the tool is read-only or harmless: it may change or delete things' })
    }
  }
  const money = amounts(params)
  if (money.length) risks.push({ kind: 'money', text: `Money: ${money.join(', ')}` })
  if (request.actionType === 'browse_website' && params.mayPay === true) risks.push({ kind: 'money', text: 'Money: it may pay on the site' })
  if (request.actionType === 'update_record' && Object.hasOwn(params, 'ownerId')) {
    const now = request.record?.owner ?? null
    const next = request.proposedOwner ?? null
    // a reviewer who may not read the record cannot tell that the owner stays: say it changes
    if (!request.record) risks.push({ kind: 'owner', text: `Changes the record's owner to ${next?.name ?? 'nobody'}` })
    else if (now?.id !== next?.id) risks.push({ kind: 'owner', text: `Changes the owner: ${now?.name ?? 'nobody'} → ${next?.name ?? 'nobody'}` })
  }
  if (request.actionType === 'post_to_social') {
    risks.push({ kind: 'public', text: typeof params.platform === 'string' && params.platform ? `Public: posts on ${params.platform}` : 'Public: a post' })
  }
  if (request.actionType === 'create_landing_page') {
    risks.push({ kind: 'public', text: typeof params.slug === 'string' ? `Public: publishes the page /${params.slug}` : 'Public: publishes a page' })
  }
  return risks
}
