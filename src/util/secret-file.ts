import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

/** A secret kept in a file (`passwordFile`, `hooks[].secretFile`): its text without the final newline. */
export function readSecretFile(path: string, cwd = process.cwd()): string {
  return readFileSync(resolve(cwd, path), 'utf8').replace(/\r?\n$/, '')
}
