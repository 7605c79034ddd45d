// Client certificates for benchmarks: thousands of devices, one P-256 key, a certificate per
// device id (CN) signed by the hub's local CA. `openssl` takes ~40 ms a certificate here; this
// signs with node:crypto in well under a millisecond. Bench-only: the product issues certificates
// with `hearth init --tls` / `issueDeviceCertificate`, each with its own key.
import { createPrivateKey, generateKeyPairSync, type KeyObject, sign, X509Certificate } from 'node:crypto'

/** DER: tag, length, content. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content)
  const n = body.length
  const len =
    n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff])
  return Buffer.concat([Buffer.from([tag]), len, body])
}

const seq = (...c: Buffer[]) => der(0x30, ...c)
const oid = (bytes: number[]) => der(0x06, Buffer.from(bytes))
const ECDSA_SHA256 = seq(oid([0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02]))
const COMMON_NAME = oid([0x55, 0x04, 0x03])

function integer(n: bigint): Buffer {
  let hex = n.toString(16)
  if (hex.length % 2) hex = `0${hex}`
  let bytes = Buffer.from(hex, 'hex')
  if (bytes[0]! & 0x80) bytes = Buffer.concat([Buffer.from([0]), bytes])
  return der(0x02, bytes)
}

const utcTime = (d: Date) => der(0x17, Buffer.from(`${d.toISOString().slice(2, 19).replace(/[-:T]/g, '')}Z`))

/** The elements of a DER SEQUENCE, each with its own header. */
function children(seqDer: Buffer): Buffer[] {
  const out: Buffer[] = []
  let i = headerLength(seqDer, 0)
  while (i < seqDer.length) {
    const h = headerLength(seqDer, i)
    const len = contentLength(seqDer, i)
    out.push(seqDer.subarray(i, i + h + len))
    i += h + len
  }
  return out
}

function headerLength(b: Buffer, at: number): number {
  const first = b[at + 1]!
  return first < 0x80 ? 2 : 2 + (first & 0x7f)
}

function contentLength(b: Buffer, at: number): number {
  const first = b[at + 1]!
  if (first < 0x80) return first
  let n = 0
  for (let k = 0; k < (first & 0x7f); k++) n = (n << 8) | b[at + 2 + k]!
  return n
}

export interface CertificateFactory {
  /** PEM private key shared by every certificate. */
  keyPem: string
  /** A PEM certificate for CN = `id`. */
  issue(id: string, serial: number): string
}

/** Signs client certificates with the CA at `caCertPem` / `caKeyPem` (P-256, as `hearth init --tls` makes). */
export function certificateFactory(caCertPem: string, caKeyPem: string): CertificateFactory {
  const caKey: KeyObject = createPrivateKey(caKeyPem)
  const ca = new X509Certificate(caCertPem)
  // Certificate → TBSCertificate → [version, serial, signature, issuer, validity, subject, …]
  const tbs = children(children(ca.raw)[0]!)
  const issuer = tbs[5]!
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const spki = publicKey.export({ type: 'spki', format: 'der' })
  const notBefore = utcTime(new Date(Date.now() - 3_600_000))
  const notAfter = utcTime(new Date(Date.now() + 30 * 86_400_000))
  return {
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    issue(id, serial) {
      const subject = seq(der(0x31, seq(COMMON_NAME, der(0x0c, Buffer.from(id)))))
      const body = seq(
        der(0xa0, integer(2n)),
        integer(BigInt(serial) + 1n),
        ECDSA_SHA256,
        issuer,
        seq(notBefore, notAfter),
        subject,
        spki,
      )
      const signature = sign('sha256', body, caKey)
      const cert = seq(body, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature))
      const b64 = (cert.toString('base64').match(/.{1,64}/g) ?? []).join('\n')
      return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`
    },
  }
}
