/**
 * fastify-liveview/testing: mount, act on and assert about live views without a browser,
 * through the real session runtime, in-process. Works with any test runner.
 */
export { LivePage, LiveTestError, Reply, live, mountView } from './lib/testing/live.js'
export type { LiveOptions, MountOptions, PushedEvent } from './lib/testing/live.js'
export type { TestFile, UploadResult, UploadTestOptions } from './lib/testing/upload.js'
