import { readFileSync } from 'node:fs'

/** A config value (`key` names it in errors) that is either PEM text or the path of a PEM file. */
export function readPem(value: string, key: string): string {
  if (value.includes('-----BEGIN')) return value
  try {
    return readFileSync(value, 'utf8')
  } catch (err) {
    throw new Error(`${key}: cannot read ${value}: ${(err as Error).message}`, { cause: err })
  }
}
