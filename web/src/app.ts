// The admin console: a shell with navigation, the login, and a hash router over the pages.
import 'uplot/dist/uPlot.min.css'
import './styles.css'
import type { MeView } from '../../src/protocol.ts'
import { createApi, errorText } from './api.ts'
import type { Ctx, Page } from './ctx.ts'
import { h, replace } from './dom.ts'
import { href } from './href.ts'
import { createLive, type Live } from './live.ts'
import { showLogin } from './login.ts'
import { createMetricsSampler, type MetricsSampler } from './metrics.ts'
import { createRecentEvents, type RecentEvents } from './recent.ts'
import { ROUTES, resolve } from './routes.ts'

const root = document.getElementById('app') as HTMLElement
let live: Live | undefined
let sampler: MetricsSampler | undefined
let recent: RecentEvents | undefined
let current: Page | undefined

// A 401 while logged in means the session ended (expired, logged out elsewhere): back to the form.
const api = createApi({ onUnauthorized: () => live && loggedOut() })

function loggedOut() {
  teardown()
  showLogin(root, api, start)
}

function teardown() {
  current?.dispose?.()
  current = undefined
  live?.close()
  live = undefined
  sampler?.stop()
  sampler = undefined
  recent?.stop()
  recent = undefined
  api.csrf = undefined
  window.removeEventListener('hashchange', onHash)
}

let onHash: () => void = () => {}

function start(me: MeView) {
  api.csrf = me.csrfToken
  live = createLive({
    onUnauthorized: () => loggedOut(),
    // Still logged in, with another role: build the console again for what it may now do.
    onRoleChanged: () => {
      teardown()
      void boot()
    },
  })
  sampler = createMetricsSampler()
  recent = createRecentEvents(live)
  const status = h('p', { class: 'toast', role: 'status', 'aria-live': 'polite' })
  let toastTimer: number | undefined
  const notify = (text: string, kind: 'ok' | 'error' = 'ok') => {
    status.textContent = text
    status.className = `toast ${kind} shown`
    clearTimeout(toastTimer)
    toastTimer = window.setTimeout(() => status.classList.remove('shown'), kind === 'error' ? 8000 : 4000)
  }
  const ctx: Ctx = {
    api,
    live,
    me,
    metrics: sampler,
    recent,
    canWrite: me.principal.scope !== 'read',
    notify,
    async attempt(what, fn) {
      try {
        return await fn()
      } catch (err) {
        notify(`${what} failed: ${errorText(err)}`, 'error')
        return undefined
      }
    },
    navigate: (hash) => {
      location.hash = hash
    },
  }

  const liveBadge = h('span', { class: 'live-badge', 'data-status': live.status }, 'connecting')
  live.onStatus((s) => {
    liveBadge.dataset.status = s
    liveBadge.textContent = s === 'open' ? 'live' : s
  })
  const links = ROUTES.map((r) =>
    h('li', null, h('a', { href: href(r.name), 'data-route': r.name }, r.label)),
  )
  const nav = h('nav', { id: 'nav', 'aria-label': 'Sections' }, h('ul', null, links))
  const menu = h(
    'button',
    { type: 'button', class: 'menu', 'aria-controls': 'nav', 'aria-expanded': 'false' },
    'Menu',
  )
  menu.addEventListener('click', () => {
    const open = menu.getAttribute('aria-expanded') !== 'true'
    menu.setAttribute('aria-expanded', String(open))
    nav.classList.toggle('open', open)
  })
  const logout = h('button', { type: 'button', class: 'link' }, 'Log out')
  logout.addEventListener('click', async () => {
    await ctx.attempt('Logging out', () => api.post('/auth/logout'))
    loggedOut()
  })
  const main = h('main', { id: 'main', tabindex: -1 })
  const skip = h('a', { class: 'skip', href: '#main' }, 'Skip to content')
  skip.addEventListener('click', (e) => {
    e.preventDefault()
    main.focus()
  })
  replace(
    root,
    skip,
    h(
      'header',
      { class: 'top' },
      menu,
      h('a', { class: 'brand', href: '#/' }, 'Hearth'),
      liveBadge,
      h('span', { class: 'who' }, me.principal.id),
      logout,
    ),
    h('div', { class: 'shell' }, nav, main),
    status,
  )

  let first = true
  onHash = () => {
    const { route, params } = resolve(location.hash)
    current?.dispose?.()
    const factory = params.length && route.detail ? route.detail : route.page
    try {
      current = factory(ctx, params)
    } catch (err) {
      current = { title: 'Error', el: h('p', { class: 'error', role: 'alert' }, errorText(err)) }
    }
    replace(main, current.el)
    document.title = `${current.title} · Hearth`
    for (const a of nav.querySelectorAll('a')) {
      if (a.dataset.route === route.name) a.setAttribute('aria-current', 'page')
      else a.removeAttribute('aria-current')
    }
    nav.classList.remove('open')
    menu.setAttribute('aria-expanded', 'false')
    // Tell screen readers the view changed; the first view keeps the page's natural start.
    if (!first) main.focus({ preventScroll: true })
    window.scrollTo(0, 0)
    first = false
  }
  window.addEventListener('hashchange', onHash)
  onHash()
}

async function boot() {
  try {
    const me = await api.get('/auth/me')
    start(me)
  } catch {
    showLogin(root, api, start)
  }
}

void boot()
