/** What a service gets when it starts. */
export interface ServiceContext {
  /** Aborted when the hub stops. */
  signal: AbortSignal
  /**
   * A running service calls this when it can no longer work (a socket died, a loop threw).
   * Under a supervisor it is restarted with back-off; otherwise the hub exits non-zero.
   */
  fail(err: unknown): void
}

/** Every long-lived part [STYLE 3]: the factory does no I/O; `stop()` is idempotent. */
export interface Service {
  readonly name: string
  start(ctx: ServiceContext): Promise<void> | void
  stop(): Promise<void> | void
}

/** A service whose failure must not take the hub down: the supervisor restarts it. */
interface Supervised {
  service: Service
  restart: true
}

export type ServiceEntry = Service | Supervised

export function isSupervised(entry: ServiceEntry): entry is Supervised {
  return 'restart' in entry && entry.restart === true
}
