/** A child of {@link h}: nodes, text, or nothing (null, undefined, false), nested in arrays. */
export type Child = Node | string | number | null | undefined | false | Child[]

type Handler = (event: Event) => void
/** Attributes (aria-*, role, class …), properties (`value`, `checked` …) and `on<event>` handlers. */
export type Props = Record<string, string | number | boolean | null | undefined | Handler>

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'open', 'multiple'])

/** Creates an element: `h('button', { type: 'button', onclick }, 'Save')`. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props?: Props | null,
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) {
      if (PROPERTIES.has(key)) (el as unknown as Record<string, unknown>)[key] = false
      continue
    }
    if (typeof value === 'function') el.addEventListener(key.slice(2), value)
    else if (PROPERTIES.has(key)) (el as unknown as Record<string, unknown>)[key] = value
    else el.setAttribute(key, value === true ? '' : String(value))
  }
  append(el, children)
  return el
}

/** Appends children, flattening arrays and skipping empty ones. */
export function append(parent: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(parent, c)
    else parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)))
  }
}

/** Replaces every child of `parent`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild)
  append(parent, children)
}

let ids = 0
/** A document-unique id for label/control pairs. */
export const uid = (prefix = 'f') => `${prefix}-${++ids}`

/** A labelled control: `<div class="field"><label for>…</label><control id></div>`. */
export function field(label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  const id = control.id || uid()
  control.id = id
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), control)
  if (hint) {
    const hid = `${id}-hint`
    control.setAttribute('aria-describedby', hid)
    wrap.append(h('small', { id: hid, class: 'hint' }, hint))
  }
  return wrap
}

/** A `<select>` with options as `[value, label]` pairs or plain values. */
export function select(
  props: Props,
  options: Array<string | [string, string]>,
  selected?: string,
): HTMLSelectElement {
  return h(
    'select',
    props,
    options.map((o) => {
      const [value, label] = Array.isArray(o) ? o : [o, o]
      return h('option', { value, selected: value === selected }, label)
    }),
  )
}

export interface Column<T> {
  label: string
  cell(row: T): Child
  /** Class of the cell (e.g. `num` for right-aligned figures). */
  class?: string
}

/** An accessible table (caption, column headers) in a horizontally scrolling wrapper. */
export function table<T>(
  caption: string,
  columns: Column<T>[],
  rows: T[],
  empty = 'Nothing yet.',
): HTMLElement {
  const body = h('tbody')
  for (const r of rows) body.append(row(columns, r))
  if (rows.length === 0)
    body.append(h('tr', null, h('td', { colspan: columns.length, class: 'empty' }, empty)))
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      { class: 'stack' },
      h('caption', { class: 'sr-only' }, caption),
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)),
        ),
      ),
      body,
    ),
  )
}

/** One `<tr>` for {@link table}. */
export function row<T>(columns: Column<T>[], r: T): HTMLTableRowElement {
  return h(
    'tr',
    null,
    columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.cell(r))),
  )
}

/** A page section with a heading (h2), labelled by it for screen readers. */
export function section(title: string, ...children: Child[]): HTMLElement {
  const id = uid('s')
  return h('section', { class: 'card', 'aria-labelledby': id }, h('h2', { id }, title), ...children)
}

/** A pre-formatted JSON view. */
export function jsonBlock(value: unknown, label = 'JSON'): HTMLPreElement {
  return h('pre', { class: 'json', tabindex: 0, 'aria-label': label }, JSON.stringify(value, null, 2))
}
