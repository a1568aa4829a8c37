// The per-connection limits: what each one means, and its default.

/** Limits of one connection. Every field is optional; defaults below. */
export interface LiveViewLimits {
  /** Largest inbound frame, in bytes; a larger one closes the socket with 1009. Default: 65536 (64 KiB) */
  maxFrameBytes?: number | undefined
  /** Frames (events, URL changes, resyncs, the join, malformed ones) a connection may send per second, on average. Default: 30 */
  eventsPerSecond?: number | undefined
  /** Frames a connection may send in a burst above the average. Default: 60 */
  eventBurst?: number | undefined
  /** Messages (events and server messages) that may wait in a session's mailbox. Default: 100 */
  mailbox?: number | undefined
  /** Milliseconds a new socket has to send its join. Default: 10000 */
  joinTimeoutMs?: number | undefined
  /** Milliseconds between heartbeat pings; a socket that misses one pong is closed. Default: 30000 */
  heartbeatMs?: number | undefined
  /** Bytes queued to a client above which server-initiated updates coalesce into one. Default: 65536 (64 KiB) */
  coalesceBytes?: number | undefined
  /** Bytes queued to a client above which the socket is closed (the client reconnects and resyncs). Default: 4194304 (4 MiB) */
  sendBufferBytes?: number | undefined
  /** A handler (or mount, or handleInfo) running longer than this many milliseconds is logged. Default: 1000 */
  slowHandlerMs?: number | undefined
  /** How deep event params may nest (`{}` is 1, `{ a: [] }` 2); deeper ones are refused. Default: 32 */
  maxDepth?: number | undefined
  /**
   * Milliseconds a socket closed by the server (slow client, heartbeat) stays open for its
   * close frame to be read, before it is cut: a client that resumes reading within it sees
   * the close code. Default: 10000
   */
  closeGraceMs?: number | undefined
  /**
   * A session that handled no message for between one and two of these periods hibernates:
   * it keeps its last render compactly and drops what it rebuilds on the next message (the
   * render's index, the rollback cache). Default: 15000
   */
  hibernateAfterMs?: number | undefined
  /**
   * A socket that keeps sending over its rate limit (`eventsPerSecond`, which every frame
   * counts against) for this many milliseconds is closed with 4005. Default: 10000
   */
  rateLimitCloseMs?: number | undefined
  /**
   * Live sockets one client IP may hold open at once (as Fastify sees the IP: `trustProxy`
   * included). Offices behind one NAT share an IP: raise it for them. Default: 100
   */
  socketsPerIp?: number | undefined
  /** Live sockets this process holds open at once. Default: 10000 */
  maxSockets?: number | undefined
  /**
   * Upload bytes a socket may have sent and not yet had acknowledged (written): the client
   * never sends more, and a chunk past it fails its entry. Upload chunks do not count
   * against `eventsPerSecond`. Default: 524288 (512 KiB)
   */
  uploadWindowBytes?: number | undefined
  /** Declared bytes of the uploads one session may hold at once (under way, or finished and not consumed). Default: 268435456 (256 MiB) */
  uploadBytesPerSession?: number | undefined
  /**
   * Upload bytes this process may hold at once (received into temporary files, retained ones
   * included; declaring a file holds none, so idle declarations cannot lock others out). A
   * file that cannot fit when declared gets `over_budget`; one whose bytes run over while
   * they come fails with `over_budget`. Default: 1073741824 (1 GiB)
   */
  uploadBytesPerServer?: number | undefined
  /** Milliseconds an upload interrupted by a disconnect waits for the user's rejoin to resume it, before its data is deleted. Default: 120000 */
  uploadRetainMs?: number | undefined
  /** Milliseconds between the renders upload progress causes (coalesced). Default: 100 */
  uploadProgressMs?: number | undefined
  /** Bytes of one page's persisted view state (`static persist`, as JSON); a bigger one is not saved (FST_LIVEVIEW_PERSIST_TOO_LARGE, logged). Default: 65536 */
  persistBytes?: number | undefined
}

export type ResolvedLimits = { [K in keyof LiveViewLimits]-?: NonNullable<LiveViewLimits[K]> }

export const DEFAULT_LIMITS: ResolvedLimits = {
  maxFrameBytes: 65536,
  eventsPerSecond: 30,
  eventBurst: 60,
  mailbox: 100,
  joinTimeoutMs: 10000,
  heartbeatMs: 30000,
  coalesceBytes: 65536,
  sendBufferBytes: 4194304,
  slowHandlerMs: 1000,
  maxDepth: 32,
  closeGraceMs: 10000,
  hibernateAfterMs: 15000,
  rateLimitCloseMs: 10000,
  socketsPerIp: 100,
  maxSockets: 10000,
  uploadWindowBytes: 524288,
  uploadBytesPerSession: 268435456,
  uploadBytesPerServer: 1073741824,
  uploadRetainMs: 120000,
  uploadProgressMs: 100,
  persistBytes: 65536
}
