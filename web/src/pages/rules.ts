import type { RuleView } from '../../../src/protocol.ts'
import { type Ctx, disposer, type Page } from '../ctx.ts'
import { type Column, field, h, jsonBlock, replace, section, select, table } from '../dom.ts'
import { brief } from '../format.ts'
import { actionButton, badge, onSubmit, parseJsonInput } from '../widgets.ts'

const TEMPLATE = {
  name: 'NO2 warning',
  trigger: { type: 'ingest' },
  when: { path: 'no2', op: '>=', value: 88 },
  actions: [{ type: 'publish', topic: 'pi/1', payload: { warning: 'no2 warning' }, qos: 1 }],
}

/** The rule body without its id (the id is in the URL of PUT /rules/:id). */
const bodyOf = (r: RuleView) => {
  const { id: _id, ...rest } = r.rule
  return rest
}

/** Rules: list, create, edit, enable/disable, delete, and test one against a pasted payload. */
export function rulesPage(ctx: Ctx): Page {
  const d = disposer()
  let rules: RuleView[] = []
  const listBox = h('div')
  const idInput = h('input', { required: true, autocomplete: 'off', pattern: '[A-Za-z0-9][A-Za-z0-9_.\\-]*' })
  const body = h('textarea', { rows: 14, spellcheck: false }, JSON.stringify(TEMPLATE, null, 2))
  const editorTitle = h('h2', { id: 'rule-editor' }, 'New rule')
  const testRule = select({}, [])
  const payload = h('textarea', { rows: 5, spellcheck: false }, '{"no2": 91, "co": 1.2, "nh3": 0.4}')
  const topic = h('input', { placeholder: 'for mqtt triggers', autocomplete: 'off' })
  const device = h('input', { placeholder: 'for ingest/telemetry triggers', autocomplete: 'off' })
  const testResult = h('div', { 'aria-live': 'polite' })

  const load = async () => {
    const res = await ctx.attempt('Loading rules', () => ctx.api.get('/rules'))
    if (!res) return
    rules = res.items
    const cols: Column<RuleView>[] = [
      { label: 'Rule', cell: (r) => h('code', null, String(r.rule.id)) },
      { label: 'Name', cell: (r) => String(r.rule.name ?? '') },
      { label: 'Trigger', cell: (r) => h('code', null, brief(r.rule.trigger, 60)) },
      {
        label: 'State',
        cell: (r) =>
          r.suspended
            ? badge('suspended', 'bad')
            : r.rule.enabled === false
              ? badge('disabled', 'off')
              : badge('enabled', 'ok'),
      },
      { label: 'Origin', cell: (r) => r.origin },
    ]
    if (ctx.canWrite) {
      cols.push({
        label: 'Actions',
        cell: (r) =>
          r.origin !== 'api'
            ? h('span', { class: 'muted' }, 'from the config file')
            : h(
                'div',
                { class: 'row' },
                actionButton(
                  r.rule.enabled === false ? 'Enable' : 'Disable',
                  async () => {
                    await ctx.attempt('Changing the rule', () =>
                      ctx.api.put(`/rules/${encodeURIComponent(String(r.rule.id))}`, {
                        ...bodyOf(r),
                        enabled: r.rule.enabled === false,
                      }),
                    )
                    await load()
                  },
                  { 'aria-label': `${r.rule.enabled === false ? 'Enable' : 'Disable'} ${r.rule.id}` },
                ),
                actionButton('Edit', async () => edit(r), { 'aria-label': `Edit ${r.rule.id}` }),
                actionButton(
                  'Delete',
                  async () => {
                    if (!confirm(`Delete rule ${r.rule.id}?`)) return
                    await ctx.attempt('Deleting the rule', () =>
                      ctx.api.del(`/rules/${encodeURIComponent(String(r.rule.id))}`),
                    )
                    await load()
                  },
                  { class: 'danger', 'aria-label': `Delete ${r.rule.id}` },
                ),
              ),
      })
    }
    replace(listBox, table('Rules', cols, rules, 'No rules yet.'))
    const keep = testRule.value
    replace(
      testRule,
      rules.map((r) =>
        h('option', { value: String(r.rule.id), selected: r.rule.id === keep }, String(r.rule.id)),
      ),
    )
  }

  const edit = async (r: RuleView) => {
    idInput.value = String(r.rule.id)
    body.value = JSON.stringify(bodyOf(r), null, 2)
    editorTitle.textContent = `Edit rule ${r.rule.id}`
    idInput.focus()
  }

  const editor = onSubmit(
    h(
      'form',
      { 'aria-labelledby': 'rule-editor' },
      editorTitle,
      field('Rule id', idInput),
      field(
        'Rule (JSON: trigger, when, actions, cooldown, for, hysteresis, enabled …)',
        body,
        'the same schema as a [[rules]] table of the config file',
      ),
      h('div', { class: 'row' }, h('button', { type: 'submit', class: 'primary' }, 'Save rule')),
    ),
    async () => {
      const saved = await ctx.attempt('Saving the rule', async () =>
        ctx.api.put(`/rules/${encodeURIComponent(idInput.value.trim())}`, parseJsonInput(body.value)),
      )
      if (saved) {
        ctx.notify(`Rule ${saved.rule.id} saved`)
        editorTitle.textContent = 'New rule'
        await load()
        testRule.value = String(saved.rule.id)
      }
    },
  )

  const tester = onSubmit(
    h(
      'form',
      { 'aria-label': 'Test a rule' },
      h('div', { class: 'row' }, field('Rule', testRule), field('Topic', topic), field('Device', device)),
      field('Payload (JSON)', payload),
      h('button', { type: 'submit' }, 'Test rule'),
    ),
    async () => {
      const res = await ctx.attempt('Testing the rule', async () =>
        ctx.api.post(`/rules/${encodeURIComponent(testRule.value)}/test`, {
          payload: parseJsonInput(payload.value, true),
          ...(topic.value.trim() ? { topic: topic.value.trim() } : {}),
          ...(device.value.trim() ? { device: device.value.trim() } : {}),
        }),
      )
      if (!res) return
      replace(
        testResult,
        h(
          'p',
          { class: res.firings.length ? 'notice ok' : 'notice' },
          res.firings.length ? `It would fire ${res.firings.length} time(s):` : 'It would not fire.',
        ),
        res.firings.length ? jsonBlock(res.firings, 'Firings') : null,
      )
    },
  )

  void load()
  d.add(
    ctx.live.onEvent((e) => {
      if (e.type === 'alert' && e.detail.source === 'rules') void load()
    }),
  )
  const el = h(
    'div',
    null,
    h('h1', null, 'Rules'),
    section('All rules', listBox),
    ctx.canWrite ? h('section', { class: 'card', 'aria-labelledby': 'rule-editor' }, editor) : null,
    section(
      'Test a rule against a payload',
      h('p', { class: 'hint' }, 'Nothing is published: the hub reports what the rule would do.'),
      tester,
      testResult,
    ),
  )
  return { title: 'Rules', el, dispose: d.dispose }
}
