/** Whether a hook or store answered with a promise (it may answer at once instead). */
export const isPromise = <T>(v: unknown): v is Promise<T> =>
  typeof v === 'object' && v !== null && typeof (v as { then?: unknown }).then === 'function'
