import { type Child, h, uid } from './dom.ts'

/** A figure in a `<dl class="stats">`. */
export function stat(label: string, value: Child, testId?: string): HTMLDivElement {
  return h('div', null, h('dt', null, label), h('dd', testId ? { 'data-stat': testId } : null, value))
}

/** A coloured status word (never colour alone: the word carries the meaning). */
export function badge(text: string, kind: 'ok' | 'warn' | 'bad' | 'off'): HTMLSpanElement {
  return h('span', { class: `badge ${kind}` }, text)
}

/** Copies text; falls back to selecting it where the Clipboard API is unavailable (plain http). */
export async function copyText(text: string, fallback: HTMLElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text)
    return true
  } catch {
    const range = document.createRange()
    range.selectNodeContents(fallback)
    const sel = window.getSelection()
    sel?.removeAllRanges()
    sel?.addRange(range)
    return document.execCommand('copy')
  }
}

/** A titled snippet with a Copy button. */
export function snippet(title: string, text: string, notify: (t: string) => void): HTMLElement {
  const id = uid('snip')
  const pre = h('pre', { class: 'snippet', id, tabindex: 0 }, text)
  const button = h('button', { type: 'button', 'aria-describedby': id }, `Copy`)
  button.setAttribute('aria-label', `Copy ${title}`)
  button.addEventListener('click', async () => {
    notify((await copyText(text, pre)) ? `${title} copied` : `${title} selected: press Ctrl+C to copy`)
  })
  return h('div', { class: 'snippet-box' }, h('div', { class: 'bar' }, h('h3', null, title), button), pre)
}

/** A button that runs an async action, disabled while it runs. */
export function actionButton(
  label: string,
  run: () => Promise<unknown>,
  props: Record<string, string> = {},
): HTMLButtonElement {
  const b = h('button', { type: 'button', ...props }, label)
  b.addEventListener('click', async () => {
    b.disabled = true
    try {
      await run()
    } finally {
      b.disabled = false
    }
  })
  return b
}

/** Wires a form's submit to an async handler (no page reload; the submit button is disabled meanwhile). */
export function onSubmit(form: HTMLFormElement, run: () => Promise<unknown>): HTMLFormElement {
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    const buttons = [...form.querySelectorAll('button')]
    for (const b of buttons) b.disabled = true
    try {
      await run()
    } finally {
      for (const b of buttons) b.disabled = false
    }
  })
  return form
}

/** Parses JSON typed by a person; plain text that is not JSON stays a string when `text` is allowed. */
export function parseJsonInput(text: string, allowText = false): unknown {
  const t = text.trim()
  try {
    return JSON.parse(t)
  } catch (err) {
    if (allowText) return text
    throw new Error(`not valid JSON: ${(err as Error).message}`)
  }
}

/** Splits "a, b c" into ids. */
export const idList = (text: string) => text.split(/[\s,]+/).filter(Boolean)
