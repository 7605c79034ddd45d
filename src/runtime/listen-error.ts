/** Thrown when a listener (HTTP, MQTT, MQTT over TLS) cannot bind its port. */
export class ListenError extends Error {
  constructor(
    readonly what: string,
    readonly host: string,
    readonly port: number,
    cause: unknown,
  ) {
    const code = (cause as NodeJS.ErrnoException)?.code
    const why =
      code === 'EADDRINUSE' ? 'the port is already in use' : ((cause as Error)?.message ?? String(cause))
    super(`cannot listen for ${what} on ${host}:${port}: ${why}`, { cause })
    this.name = 'ListenError'
  }
}
