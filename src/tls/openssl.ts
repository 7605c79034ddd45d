import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/** Runs Debian's `openssl`; throws with its stderr when it fails. */
export async function openssl(args: string[], cwd: string): Promise<void> {
  let proc: Bun.Subprocess<'ignore', 'ignore', 'pipe'>
  try {
    proc = Bun.spawn(['openssl', ...args], { cwd, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe' })
  } catch (err) {
    throw new Error(`cannot run openssl (install it: apt-get install openssl): ${(err as Error).message}`, {
      cause: err,
    })
  }
  const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()])
  if (code !== 0) throw new Error(`openssl ${args[0]} failed (exit ${code}): ${stderr.trim()}`)
}

/** A random positive serial number, as openssl's `-set_serial` takes it. */
function randomSerial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  bytes[0] = bytes[0]! & 0x7f
  return `0x${Buffer.from(bytes).toString('hex')}`
}

/** Signs `csr` with the CA in `dir`, adding `extensions` (openssl extfile syntax). */
export async function signWithCa(
  dir: string,
  csr: string,
  out: string,
  days: number,
  extensions: string[],
): Promise<void> {
  const ext = join(dir, `${out}.ext`)
  writeFileSync(ext, `${extensions.join('\n')}\n`)
  try {
    await openssl(
      [
        'x509',
        '-req',
        '-in',
        csr,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-set_serial',
        randomSerial(),
        '-days',
        String(days),
        '-sha256',
        '-extfile',
        ext,
        '-out',
        out,
      ],
      dir,
    )
  } finally {
    rmSync(ext, { force: true })
    rmSync(join(dir, csr), { force: true })
  }
}

/** Arguments of `openssl req` that make a new P-256 key (small, fast, understood by every client). */
export const NEW_EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes']
