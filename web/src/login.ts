import type { MeView } from '../../src/protocol.ts'
import { type Api, errorText } from './api.ts'
import { field, h, replace } from './dom.ts'

/** The login form; resolves `onLoggedIn` with who logged in once the session cookie is set. */
export function showLogin(root: HTMLElement, api: Api, onLoggedIn: (me: MeView) => void): void {
  document.title = 'Log in · Hearth'
  const user = h('input', {
    name: 'username',
    autocomplete: 'username',
    required: true,
    autocapitalize: 'none',
  })
  const pass = h('input', {
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  })
  const error = h('p', { class: 'error', role: 'alert' })
  const button = h('button', { type: 'submit', class: 'primary' }, 'Log in')
  const form = h(
    'form',
    { class: 'login card', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Hearth'),
    h('p', { class: 'muted' }, 'Log in to the hub console.'),
    field('Username', user),
    field('Password', pass),
    error,
    button,
  )
  form.addEventListener('submit', async (e) => {
    e.preventDefault()
    button.disabled = true
    error.textContent = ''
    try {
      const session = await api.post('/auth/login', {
        username: user.value,
        password: pass.value,
      })
      api.csrf = session.csrfToken
      const scope = session.user.role === 'admin' ? 'admin' : 'read'
      onLoggedIn({
        principal: { kind: 'user', id: session.user.username, scope },
        user: session.user,
        csrfToken: session.csrfToken,
      })
    } catch (err) {
      error.textContent = `Login failed: ${errorText(err)}`
      pass.select()
    } finally {
      button.disabled = false
    }
  })
  replace(root, h('main', { class: 'login-page' }, form))
  user.focus()
}
