// The inbox's look as the system asks for it: light or dark (prefers-color-scheme), with every
// text readable (WCAG AA contrast) in both. Debian's Chromium driven by playwright-core against a
// real server on PGlite serving a fresh production build.
import { type Page } from 'playwright-core'
import { useBrowserSuite } from './browser'
import { beforeAll, describe, expect, it } from 'vitest'

const suite = useBrowserSuite()
let base: string

beforeAll(() => {
  base = suite.base
})

/** A page in the given system colour scheme; a refused sign-in answers 401, which the browser reports, and is no fault. */
const newPage = (colorScheme: 'light' | 'dark') => suite.newPage({ colorScheme, refusals: [401] })

type Rgb = [number, number, number]

/** WCAG 2 relative luminance: 0 for black, 1 for white. */
function luminance([r, g, b]: Rgb): number {
  const linear = (c: number) => (c / 255 <= 0.03928 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4)
  return 0.2126 * linear(r) + 0.7152 * linear(g) + 0.0722 * linear(b)
}

function contrast(a: Rgb, b: Rgb): number {
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x) as [number, number]
  return (hi + 0.05) / (lo + 0.05)
}

/**
 * What the reader sees of each element matching `selector`: its text colour and the background
 * painted behind it (its own or the nearest ancestor's that is not transparent, the page's
 * canvas at the end), as the browser computed them.
 */
async function colours(page: Page, selector: string): Promise<{ text: string; color: Rgb; background: Rgb }[]> {
  return page.locator(selector).evaluateAll((elements) => {
    const rgb = (value: string) => {
      const [r, g, b, a] = (value.match(/[\d.]+/g) ?? []).map(Number)
      return { rgb: [r ?? 0, g ?? 0, b ?? 0] as [number, number, number], transparent: a === 0 }
    }
    const behind = (element: Element): [number, number, number] => {
      for (let at: Element | null = element; at; at = at.parentElement) {
        const paint = rgb(getComputedStyle(at).backgroundColor)
        if (!paint.transparent) return paint.rgb
      }
      // nothing painted: the canvas, which with `color-scheme: light dark` follows the scheme
      return matchMedia('(prefers-color-scheme: dark)').matches ? [18, 18, 18] : [255, 255, 255]
    }
    return elements.map((element) => ({
      text: (element.textContent ?? '').trim().slice(0, 40),
      color: rgb(getComputedStyle(element).color).rgb,
      background: behind(element),
    }))
  })
}

/** The sign-in page with its error shown, so that the error colour is on screen too. */
async function signInRefused(page: Page) {
  await page.goto(base + '/')
  await page.getByLabel('API token').fill('apv_not-a-token')
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.getByRole('alert').waitFor()
}

describe('appearance', () => {
  it('is dark when the system prefers dark, light otherwise', async () => {
    const pageBackground: Partial<Record<'light' | 'dark', Rgb>> = {}
    for (const scheme of ['light', 'dark'] as const) {
      const page = await newPage(scheme)
      await page.goto(base + '/')
      await page.getByRole('button', { name: 'Sign in' }).waitFor()
      const [body] = await colours(page, 'body')
      pageBackground[scheme] = body!.background
      // the text itself follows: light on dark, dark on light
      if (scheme === 'dark') expect(luminance(body!.color)).toBeGreaterThan(0.6)
      else expect(luminance(body!.color)).toBeLessThan(0.1)
      await page.close()
    }
    expect(pageBackground.dark).not.toEqual(pageBackground.light)
    expect(luminance(pageBackground.dark!)).toBeLessThan(0.05)
    expect(luminance(pageBackground.light!)).toBeGreaterThan(0.8)
  })

  it('keeps every text of the sign-in page readable in both (WCAG AA, 4.5:1)', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const page = await newPage(scheme)
      await signInRefused(page)
      const texts = await colours(page, '.signin h1, .signin p, .signin label, .signin input, .signin button, .signin [role=alert]')
      expect(texts.length, scheme).toBeGreaterThanOrEqual(6)
      for (const { text, color, background } of texts) {
        expect(contrast(color, background), `${scheme}: "${text}" rgb(${color}) on rgb(${background})`).toBeGreaterThanOrEqual(4.5)
      }
      // the sign-in card stands out from the page in both
      const [card] = await colours(page, '.signin form')
      const [pageBehind] = await colours(page, '.signin')
      expect(card!.background, scheme).not.toEqual(pageBehind!.background)
      await page.close()
    }
  })
})
