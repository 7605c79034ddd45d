import { z } from 'zod'

/** A TCP port; 0 lets the system pick one (tests). */
export const port = () => z.number().int().min(0).max(65535)

/** A host name or address to bind to. */
export const host = () => z.string().min(1)
