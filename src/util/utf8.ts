const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The bytes as text when they are valid UTF-8. */
export function bodyText(raw: Uint8Array): string | undefined {
  try {
    return utf8.decode(raw)
  } catch {
    return undefined
  }
}
