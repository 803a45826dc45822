import { useEffect, useState } from 'react'
import { liveConnection } from './client'

/** The current time, refreshed every `intervalMs`, for countdowns. */
export function useNow(intervalMs = 30_000): Date {
  const [now, setNow] = useState(() => new Date())
  useEffect(() => {
    const timer = setInterval(() => setNow(new Date()), intervalMs)
    return () => clearInterval(timer)
  }, [intervalMs])
  return now
}

/**
 * Calls `onKey` for single-key shortcuts, unless the user is typing in a field. A key held down
 * counts once: its auto-repeats are ignored, so holding `a` cannot decide request after request.
 */
export function useShortcuts(onKey: (key: string, event: KeyboardEvent) => void) {
  useEffect(() => {
    const handler = (e: KeyboardEvent) => {
      if (e.repeat || e.metaKey || e.ctrlKey || e.altKey) return
      const target = e.target as HTMLElement | null
      if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return
      onKey(e.key, e)
    }
    window.addEventListener('keydown', handler)
    return () => window.removeEventListener('keydown', handler)
  }, [onKey])
}

/**
 * Whether a dialog, a menu or another overlay is open on the page: keys then belong to it, and a
 * shortcut must not act on what lies beneath (the keys' help open, `a` approved the request behind
 * it). Dialogs count by their role or as open `<dialog>`s; menus and panels that drop down mark
 * themselves with `data-overlay` (a `<details data-overlay>` while it is open).
 */
export function overlayOpen(): boolean {
  return document.querySelector('dialog[open], [role="dialog"], [role="alertdialog"], [role="menu"], details[data-overlay][open], [data-overlay]:not(details)') !== null
}

/**
 * Whether a form is being filled in on the page (the reason for a rejection, an edit before
 * approving, the rule of "allow similar"): a key that moves to another request would throw it
 * away, so such keys wait until it is sent or left (Escape). These forms mark where they are with
 * `data-form-open`.
 */
export function formOpen(): boolean {
  return document.querySelector('[data-form-open]') !== null
}

/** Whether the live (WebSocket) connection is up; calls `onReconnect` each time it comes up. */
export function useLiveConnection(onReconnect?: () => void): boolean {
  const [up, setUp] = useState(liveConnection.up)
  useEffect(() => {
    const changed = () => {
      setUp(liveConnection.up)
      if (liveConnection.up) onReconnect?.()
    }
    liveConnection.addEventListener('change', changed)
    return () => liveConnection.removeEventListener('change', changed)
  }, [onReconnect])
  return up
}

/** A value that follows `value` once it has stopped changing for `ms` (typing in a search box). */
export function useSettled<T>(value: T, ms = 300): T {
  const [settled, setSettled] = useState(value)
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), ms)
    return () => clearTimeout(timer)
  }, [value, ms])
  return settled
}
