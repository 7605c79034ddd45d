import { describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../../../src/config/load.ts'
import { createToken } from '../../../src/store/tokens.ts'
import { startTestHub, tempDir } from '../../helpers/hub.ts'
import { makeServiceAccount } from './peer.ts'

const problemsOf = (fn: () => unknown): string[] => {
  try {
    fn()
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}

describe('push and slack configuration', () => {
  it('reads the service account from a file named by the environment, and refuses one that is not a key', async () => {
    using dir = tempDir()
    const account = await makeServiceAccount('https://oauth2.googleapis.com/token', 'from-file')
    writeFileSync(join(dir.path, 'sa.json'), account.json)
    const { config } = loadConfig({ cwd: dir.path, env: { HEARTH_PUSH_SERVICE_ACCOUNT_FILE: 'sa.json' } })
    expect(JSON.parse(config.push.serviceAccount!).project_id).toBe('from-file')
    expect(
      problemsOf(() =>
        loadConfig({ cwd: dir.path, env: { HEARTH_PUSH_SERVICE_ACCOUNT: '{"type": "user"}' } }),
      ),
    ).toEqual([expect.stringMatching(/^push\.serviceAccount: not a service-account key/)])
    expect(problemsOf(() => loadConfig({ cwd: dir.path, env: { HEARTH_PUSH_BATCH_SIZE: '501' } }))).toEqual([
      expect.stringMatching(/^push\.batchSize/),
    ])
  })

  it('refuses a Slack channel destination without a bot token', () => {
    using dir = tempDir()
    expect(problemsOf(() => loadConfig({ cwd: dir.path, env: { HEARTH_SLACK_CHANNEL: 'C0123' } }))).toEqual([
      'slack.botToken: a channel destination needs slack.botToken',
    ])
  })

  it('keeps the token registry without a service account, but has no push action and answers a send with 503', async () => {
    await using t = await startTestHub()
    const auth = { authorization: `Bearer ${createToken(t.hub.db, { name: 'a', scope: 'write' }).secret}` }
    const reg = await fetch(`${t.url}/api/v1/push/tokens`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'early-token-1', platform: 'ios' }),
    })
    expect(reg.status).toBe(201)
    expect(t.hub.actions.has('push')).toBe(false)
    expect(t.hub.actions.has('slack')).toBe(false)
    const send = await fetch(`${t.url}/api/v1/push/send`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ silent: true }),
    })
    expect(send.status).toBe(503)
    expect(await send.json()).toMatchObject({ code: 50301 })
  })
})
