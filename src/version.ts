import pkg from '../package.json' with { type: 'json' }

/** The release, embedded at build time. */
export const VERSION: string = pkg.version
