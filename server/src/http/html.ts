// HTML made on the server (the decision page, emails) from text that is not ours: a request's
// summary and params come from the agent, which may be hostile. Everything interpolated into the
// `html` template is escaped unless it is itself made by `html`, so nothing the agent sends can
// become markup.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** HTML that is safe to insert as it is: made by `html` (or `trusted`). */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString() {
    return this.value
  }
}

/** Escapes text for HTML content and quoted attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)

type Part = SafeHtml | string | number | null | undefined | false | readonly Part[]

const render = (part: Part): string => {
  if (part === null || part === undefined || part === false) return ''
  if (part instanceof SafeHtml) return part.value
  if (Array.isArray(part)) return part.map(render).join('')
  return escapeHtml(String(part))
}

/** A template of HTML whose interpolations are escaped (lists are joined; null, undefined and false are nothing). */
export function html(strings: TemplateStringsArray, ...parts: Part[]): SafeHtml {
  let out = strings[0]!
  parts.forEach((part, i) => (out += render(part) + strings[i + 1]!))
  return new SafeHtml(out)
}

/** Markup written in this code base (constants, never anything received). */
export const trusted = (markup: string) => new SafeHtml(markup)
