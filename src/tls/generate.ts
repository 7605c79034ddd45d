import { chmodSync, existsSync, mkdirSync } from 'node:fs'
import { isIP } from 'node:net'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { NEW_EC_KEY, openssl, signWithCa } from './openssl.ts'

/** Where `hearth init --tls` puts its files: `<dataDir>/tls/`. */
export const tlsDir = (dataDir: string) => join(dataDir, 'tls')

interface LocalTls {
  dir: string
  caCert: string
  caKey: string
  cert: string
  key: string
  /** Names and addresses the server certificate is valid for. */
  hosts: string[]
}

/** Validity of the server certificate: 825 days, the longest Apple's clients accept. */
const SERVER_DAYS = 825
const CA_DAYS = 3650

/** The names a hub on this machine is reached by at home, plus any given. */
export function defaultTlsHosts(extra: string[] = []): string[] {
  const name = hostname()
  const hosts = ['localhost', '127.0.0.1', '::1', name, `${name}.local`, ...extra]
  return [...new Set(hosts.filter((h) => h.length > 0))]
}

/**
 * Makes a local CA and a server certificate signed by it (`hearth init --tls`).
 * Refuses to replace an existing CA unless `force`: devices may already trust it.
 */
export async function generateLocalTls(
  dir: string,
  opts: { hosts?: string[]; force?: boolean } = {},
): Promise<LocalTls> {
  const files = {
    dir,
    caCert: join(dir, 'ca.crt'),
    caKey: join(dir, 'ca.key'),
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
  }
  if (existsSync(files.caCert) && !opts.force)
    throw new Error(
      `${files.caCert} already exists (use --force to make a new CA; devices must then trust it)`,
    )
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  const hosts = opts.hosts ?? defaultTlsHosts()
  await openssl(
    [
      'req',
      '-x509',
      ...NEW_EC_KEY,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      String(CA_DAYS),
      '-sha256',
      '-subj',
      `/CN=Hearth local CA (${hostname()})`,
      '-addext',
      'basicConstraints=critical,CA:TRUE,pathlen:0',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  )
  await openssl(
    [
      'req',
      '-new',
      ...NEW_EC_KEY,
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      `/CN=${hosts[0] ?? 'localhost'}`,
    ],
    dir,
  )
  const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',')
  await signWithCa(dir, 'server.csr', 'server.crt', SERVER_DAYS, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    'extendedKeyUsage=serverAuth',
    `subjectAltName=${san}`,
  ])
  for (const key of [files.caKey, files.key]) chmodSync(key, 0o600)
  return { ...files, hosts }
}

/**
 * A client certificate for a device, signed by the local CA, for `mqtt.tls.requireClientCert`
 * (device id = CN). Written to `<dir>/devices/<id>.crt` and `.key`.
 */
export async function issueDeviceCertificate(
  dir: string,
  deviceId: string,
): Promise<{ cert: string; key: string; ca: string }> {
  const ca = join(dir, 'ca.crt')
  if (!existsSync(ca) || !existsSync(join(dir, 'ca.key')))
    throw new Error(`no local CA in ${dir}: run "hearth init --tls" first`)
  const out = join(dir, 'devices')
  mkdirSync(out, { recursive: true, mode: 0o700 })
  const base = `devices/${deviceId}`
  await openssl(
    [
      'req',
      '-new',
      ...NEW_EC_KEY,
      '-keyout',
      `${base}.key`,
      '-out',
      `${base}.csr`,
      '-subj',
      `/CN=${deviceId}`,
    ],
    dir,
  )
  await signWithCa(dir, `${base}.csr`, `${base}.crt`, SERVER_DAYS, [
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=clientAuth',
  ])
  const key = join(dir, `${base}.key`)
  chmodSync(key, 0o600)
  return { cert: join(dir, `${base}.crt`), key, ca }
}
