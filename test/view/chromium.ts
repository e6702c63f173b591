/**
 * Headless Chromium for the live-view tests: Debian's `chromium` package
 * (installed by .ci/run), driven by playwright-core. Where it is missing the
 * browser tests FAIL with a message saying so, unless GCM_SKIP_BROWSER=1 opts
 * out: then they are skipped and a loud line says they did not run.
 */
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

export const CHROMIUM = process.env.GCM_CHROMIUM ?? '/usr/bin/chromium';
export const haveChromium = existsSync(CHROMIUM);
export const skipBrowser = !haveChromium && process.env.GCM_SKIP_BROWSER === '1';

if (skipBrowser)
  console.warn(
    `\n*** LIVE VIEW BROWSER TESTS NOT RUN: no Chromium at ${CHROMIUM} and GCM_SKIP_BROWSER=1 ***\n`,
  );

export const missingChromiumMessage = `no Chromium at ${CHROMIUM}: install Debian's chromium (apt-get install chromium; .ci/run does), set GCM_CHROMIUM to another binary, or set GCM_SKIP_BROWSER=1 to skip these tests knowingly`;

/**
 * The machine's network is closed: no background connections, no first-run or component updates.
 * The live-view benches start Chromium with the same flags.
 */
export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export function launchChromium(): Promise<Browser> {
  if (!haveChromium) throw new Error(missingChromiumMessage);
  // playwright-core gives each launch a fresh temporary --user-data-dir.
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
}
