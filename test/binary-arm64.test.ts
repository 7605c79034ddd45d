// The Raspberry Pi build, run on this x86-64 machine by Debian's qemu-user-static with the arm64
// loader and C library from libc6-arm64-cross. qemu is slow: one build per run, few starts.
import { beforeAll, describe, expect, it } from 'bun:test'
import { closeSync, openSync, readSync } from 'node:fs'
import { ensureArm64Binary } from './helpers/binary.ts'
import { spawnHub } from './helpers/process.ts'

// The Cortex-A53 of the Raspberry Pi 3 and Zero 2 W: the oldest 64-bit Pi CPU, ARMv8.0 without the
// later extensions qemu's default CPU would offer.
const QEMU = ['qemu-aarch64-static', '-cpu', 'cortex-a53', '-L', '/usr/aarch64-linux-gnu']
const BUILD_MS = 120_000
const QEMU_MS = 120_000

let binary = ''
beforeAll(() => {
  binary = ensureArm64Binary()
}, BUILD_MS)

/** e_machine of an ELF file: 183 (EM_AARCH64) for arm64. */
function elfMachine(path: string): number {
  const fd = openSync(path, 'r')
  try {
    const head = Buffer.alloc(20)
    readSync(fd, head, 0, 20, 0)
    return head.readUInt16LE(18)
  } finally {
    closeSync(fd)
  }
}

describe('the arm64 binary (npm run build:arm64)', () => {
  it(
    'is an aarch64 executable that answers version under qemu',
    () => {
      expect(elfMachine(binary)).toBe(183)
      const res = Bun.spawnSync([...QEMU, binary, 'version'], { stdout: 'pipe', stderr: 'pipe' })
      expect({ code: res.exitCode, err: res.stderr.toString() }).toEqual({ code: 0, err: '' })
      expect(res.stdout.toString()).toMatch(/^hearth \d+\.\d+\.\d+ \(bun [\d.]+\)\n$/)
    },
    QEMU_MS,
  )

  it(
    'serves /healthz on free ports and exits 0 on SIGTERM',
    async () => {
      await using hub = await spawnHub(
        ['serve'],
        {},
        { command: [...QEMU, binary], startTimeoutMs: QEMU_MS - 20_000 },
      )
      const res = await fetch(`${hub.url}/healthz`)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual({ status: 'ok' })
      expect(await hub.kill('SIGTERM')).toBe(0)
    },
    QEMU_MS,
  )
})
