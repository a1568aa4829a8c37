import createError from '@fastify/error'

/**
 * Every error the plugin raises or sends to a client, by code.
 * Each is documented in README.md ("Error codes"); a test checks that.
 */
export const errors = {
  // Register and boot time
  OPTIONS_INVALID: createError('FST_LIVEVIEW_OPTIONS_INVALID', "Invalid fastify-liveview option '%s': %s", 500, TypeError),
  SECRET_MISSING: createError('FST_LIVEVIEW_SECRET_MISSING', 'fastify-liveview needs a `secret` in production (at least 32 characters); set it from an environment variable', 500),
  CLIENT_MISSING: createError('FST_LIVEVIEW_CLIENT_MISSING', 'The client bundle was not found at %s: run `npm run build`', 500),
  VIEW_INVALID: createError('FST_LIVEVIEW_VIEW_INVALID', 'View %s: %s', 500, TypeError),
  TEMPLATE_INVALID: createError('FST_LIVEVIEW_TEMPLATE_INVALID', "View %s: template '%s' %s", 500),
  ROUTE_INVALID: createError('FST_LIVEVIEW_ROUTE_INVALID', "Live route '%s': %s", 500, TypeError),

  // Join (the socket's first frame)
  JOIN_REQUIRED: createError('FST_LIVEVIEW_JOIN_REQUIRED', 'The first frame of a socket must be a join', 400),
  ALREADY_JOINED: createError('FST_LIVEVIEW_ALREADY_JOINED', 'This socket has joined a view already', 400),
  TOKEN_INVALID: createError('FST_LIVEVIEW_TOKEN_INVALID', 'The page token is malformed or its signature does not verify', 403),
  TOKEN_EXPIRED: createError('FST_LIVEVIEW_TOKEN_EXPIRED', 'The page token expired: reload the page', 403),
  TOKEN_URL_MISMATCH: createError('FST_LIVEVIEW_TOKEN_URL_MISMATCH', "The page token was signed for '%s', not for the page URL '%s'", 403),
  TOKEN_REVOKED: createError('FST_LIVEVIEW_TOKEN_REVOKED', 'The sessions of this user were disconnected by the app: load the page again', 403),
  SESSION_MISMATCH: createError('FST_LIVEVIEW_SESSION_MISMATCH', 'The page token was signed for another session than the one of this request: load the page again', 403),
  MOUNT_REFUSED: createError('FST_LIVEVIEW_MOUNT_REFUSED', "The route's checks refused a live mount of '%s' (its GET answered %s): load it in full", 403),
  TOO_MANY_SOCKETS: createError('FST_LIVEVIEW_TOO_MANY_SOCKETS', 'Too many live sockets %s (the limit is %s)', 429),
  PROTOCOL_MISMATCH: createError('FST_LIVEVIEW_PROTOCOL_MISMATCH', 'The page speaks protocol version %s, the server %s: reload the page', 400),
  ROUTE_NOT_FOUND: createError('FST_LIVEVIEW_ROUTE_NOT_FOUND', "No live view is declared for '%s'", 404),
  ORIGIN_FORBIDDEN: createError('FST_LIVEVIEW_ORIGIN_FORBIDDEN', "WebSocket Origin '%s' is not allowed", 403),
  JOIN_TIMEOUT: createError('FST_LIVEVIEW_JOIN_TIMEOUT', 'The socket did not join within %s ms', 408),
  MOUNT_FAILED: createError('FST_LIVEVIEW_MOUNT_FAILED', 'View %s failed to mount: %s', 500),

  // Frames and events
  FRAME_MALFORMED: createError('FST_LIVEVIEW_FRAME_MALFORMED', 'Malformed frame: %s', 400),
  FRAME_TOO_LARGE: createError('FST_LIVEVIEW_FRAME_TOO_LARGE', 'Frame of %s bytes is over the limit of %s bytes', 413),
  FRAME_TOO_DEEP: createError('FST_LIVEVIEW_FRAME_TOO_DEEP', 'Event params nest deeper than the limit of %s levels', 400),
  URL_UNSAFE: createError('FST_LIVEVIEW_URL_UNSAFE', "'%s' is not a URL the view may send the browser to: %s", 400),
  PATCH_REFUSED: createError('FST_LIVEVIEW_PATCH_REFUSED', "'%s' is not a URL of this view's route '%s': navigate there with a full load", 400),
  EVENT_UNKNOWN: createError('FST_LIVEVIEW_EVENT_UNKNOWN', "View %s has no event handler '%s'", 404),
  EVENT_STALE: createError('FST_LIVEVIEW_EVENT_STALE', "Event '%s' was sent to mount %s, but the page now shows mount %s: it did not run", 409),
  PARAMS_INVALID: createError('FST_LIVEVIEW_PARAMS_INVALID', "Invalid params for event '%s': %s", 400),
  HANDLER_FAILED: createError('FST_LIVEVIEW_HANDLER_FAILED', "Handler '%s' of view %s failed: %s", 500),
  INFO_FAILED: createError('FST_LIVEVIEW_INFO_FAILED', 'handleInfo of view %s failed: %s', 500),
  CONTEXT_INVALID: createError('FST_LIVEVIEW_CONTEXT_INVALID', 'context() of view %s %s', 500),
  RENDER_FAILED: createError('FST_LIVEVIEW_RENDER_FAILED', 'Template of view %s failed: %s', 500),
  COMPONENT_INVALID: createError('FST_LIVEVIEW_COMPONENT_INVALID', 'Component %s: %s', 500),
  COMPONENT_DUPLICATE: createError('FST_LIVEVIEW_COMPONENT_DUPLICATE', "Component %s with id '%s' is rendered twice on the page: ids must be unique per class", 500),
  STREAM_INVALID: createError('FST_LIVEVIEW_STREAM_INVALID', 'Stream %s: %s', 500),
  TARGET_UNKNOWN: createError('FST_LIVEVIEW_TARGET_UNKNOWN', 'The event %s targets no component of this page: %s', 404),
  UPLOAD_UNKNOWN: createError('FST_LIVEVIEW_UPLOAD_UNKNOWN', 'No upload or upload entry %s', 404),
  UPLOAD_CHUNK_INVALID: createError('FST_LIVEVIEW_UPLOAD_CHUNK_INVALID', 'Upload entry %s refused a chunk: %s; the entry failed', 400),
  RATE_LIMITED: createError('FST_LIVEVIEW_RATE_LIMITED', 'Too many frames: the limit is %s per second', 429),
  RATE_LIMIT_CLOSED: createError('FST_LIVEVIEW_RATE_LIMIT_CLOSED', 'The client kept sending over its rate limit for %s ms: the socket is closed', 429),
  DISCONNECTED_BY_APP: createError('FST_LIVEVIEW_DISCONNECTED_BY_APP', 'The app disconnected the live sessions of this user (liveViewDisconnect)', 403),
  MAILBOX_FULL: createError('FST_LIVEVIEW_MAILBOX_FULL', 'The session has %s messages waiting already', 503),
  SLOW_CLIENT: createError('FST_LIVEVIEW_SLOW_CLIENT', 'The client stopped reading: %s bytes waiting to be sent', 503),
  HEARTBEAT_TIMEOUT: createError('FST_LIVEVIEW_HEARTBEAT_TIMEOUT', 'The client did not answer the heartbeat', 408),
  SHUTTING_DOWN: createError('FST_LIVEVIEW_SHUTTING_DOWN', 'The server is shutting down: the message did not run', 503),
  MESSAGE_FAILED: createError('FST_LIVEVIEW_MESSAGE_FAILED', 'The session failed to handle the message: %s', 500),
  // PubSub adapters
  PUBLISH_TIMEOUT: createError('FST_LIVEVIEW_PUBLISH_TIMEOUT', 'A broadcast on topic %s did not reach the PubSub server within %s ms', 503),
  PUBLISH_BACKLOG: createError('FST_LIVEVIEW_PUBLISH_BACKLOG', 'A broadcast on topic %s was refused: %s broadcasts are waiting for the PubSub server already', 503),
  POLL_GONE: createError('FST_LIVEVIEW_POLL_GONE', 'No live session %s… on any process (it ended, or its process stopped): open a new one', 410),
  PERSIST_TOO_LARGE: createError('FST_LIVEVIEW_PERSIST_TOO_LARGE', 'The persisted fields of view %s are %s bytes, over the limit of %s bytes: not saved', 500),
  // Raised by the browser client only; listed so they are documented.
  /** An event while the socket is down. */
  DISCONNECTED: createError('FST_LIVEVIEW_DISCONNECTED', 'Not connected: the event was dropped', 503),
  /** The page reloaded itself too often in a short time (refused joins): it stopped. */
  RELOAD_LIMIT: createError('FST_LIVEVIEW_RELOAD_LIMIT', 'The page reloaded %s times in %s s and stopped: reload it by hand', 503),
  /** A lazy chunk of the client did not load. */
  CHUNK_FAILED: createError('FST_LIVEVIEW_CHUNK_FAILED', 'Could not load %s', 503)
} as const

export type LiveViewErrorCode = ReturnType<typeof errors[keyof typeof errors]>['code']

/** A coded error as thrown by the plugin. */
export interface CodedError extends Error {
  code: string
  statusCode?: number
}

export function isCoded (err: unknown): err is CodedError {
  return err instanceof Error && typeof (err as CodedError).code === 'string' && (err as CodedError).code.startsWith('FST_LIVEVIEW_')
}

/** Client-supplied text as it may appear in messages and logs: at most `max` characters. */
export function clip (value: unknown, max = 100): string {
  const text = String(value)
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`
}

/** Message text of anything thrown, for logs and error frames. */
export function describe (err: unknown): string {
  if (err instanceof Error) return err.message
  return String(err)
}

/** Error details go to the client in development only; the log always has them. */
export function detail (production: boolean, err: unknown): string {
  return production ? 'see the server log' : describe(err)
}
