/** How long a decision can be taken back before it is sent (lib/decisions.tsx). */
export const UNDO_MS = 5000

/** How long a request must have been on screen before a key may decide it (a second tap meant for the previous one does not). */
export const KEYBOARD_DWELL_MS = 800
