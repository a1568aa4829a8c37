import { chromium, type Browser } from 'playwright-core'

// Debian's chromium (`npm test` installs it when missing), with the flags that keep it off
// the network (see ../shared/FINDINGS.md). Browser tests never skip.
const CHROMIUM = process.env.LV_CHROMIUM_PATH ?? '/usr/bin/chromium'
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'
]

/** Launches headless Chromium for a test file. */
export async function launchChromium (): Promise<Browser> {
  return await chromium.launch({ executablePath: CHROMIUM, args: FLAGS })
}
