/**
 * The live view as a user sees it, in headless Chromium: the emulator and a
 * runtime on one SimulatedClock, the page following that clock. A call turns
 * keepAliveDue then active, its deadline text moves with simulated time, a
 * recording walks to deleted, a 404 ends another call; the page asks nothing
 * of any origin but its own and shows no secret.
 *
 * GCM_VIEW_SCREENSHOT=<path> also saves a screenshot (`npm run screenshot`).
 */
import type { Browser, Page } from 'playwright-core';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpAttemptEvent } from '../../src/adapters/http.js';
import { callMachine } from '../../src/machines/index.js';
import { createHarness, type Harness } from '../../src/testing/harness.js';
import { createLiveView, type LiveView } from '../../src/view/index.js';
import { haveChromium, launchChromium, missingChromiumMessage, skipBrowser } from './chromium.js';

const MIN = 60_000;

describe.skipIf(skipBrowser)('live view in Chromium', () => {
  let h: Harness;
  let view: LiveView;
  let browser: Browser;
  let page: Page;
  const origins = new Set<string>();
  const problems: string[] = [];
  const recordingTokens: string[] = [];

  beforeAll(async () => {
    if (!haveChromium) return;
    const attempts = new Subject<HttpAttemptEvent>();
    h = await createHarness({
      onAttempt: (e) => attempts.next(e),
      onRequest: (req) => {
        if (typeof req.auth === 'object') recordingTokens.push(req.auth.bearer);
      },
    });
    view = await createLiveView({ runtime: h.runtime, requests: attempts, frameMs: 50 });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('request', (r) => origins.add(new URL(r.url()).origin));
    page.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
  });

  afterAll(async () => {
    await browser?.close();
    await view?.close();
    await h?.close();
  });

  const row = (id: string) => page.locator(`tr[data-call="${id}"]`);
  const cellText = (id: string, cls: string) => row(id).locator(`td.${cls}`);

  it('shows calls live on the runtime clock, offline', async () => {
    if (!haveChromium) throw new Error(missingChromiumMessage);
    const voicemail = h.call({
      script: { promptSeconds: 3, caller: { kind: 'speak', seconds: 6, thenTone: '#' } },
    });
    const gone = h.call();
    // A third call whose keepAlives Graph refuses (503): the machine's retry waits show.
    const refused = h.call();
    h.emulator.control.injectFault({
      route: 'keepAlive',
      callId: refused,
      count: 1_000,
      fault: { kind: 'status', status: 503 },
    });
    // Hold voicemail's first keepAlive answer 5 s (simulated) so keepAliveDue stays on screen.
    h.emulator.control.injectFault({
      route: 'keepAlive',
      callId: voicemail,
      count: 1,
      fault: { kind: 'delay', ms: 5_000 },
    });
    const recorded = h.runtime.record(
      voicemail,
      { playBeep: true, stopTones: ['#'], maxRecordDurationInSeconds: 60 },
      async (clip) => clip.bytes,
    );

    await page.goto(view.url);
    await expect.poll(() => cellText(voicemail, 'state').textContent()).toBe('active');
    await expect.poll(() => cellText(voicemail, 'deadline').textContent()).toBe('in 45:00');
    await expect.poll(() => page.locator('#diagram').getAttribute('data-renderer')).toBe('mermaid');

    // One simulated minute: the recording is made, downloaded, processed and deleted.
    await h.clock.advance(1 * MIN);
    const rec = row(voicemail).locator('.rec[data-record="rec-1"]');
    await expect.poll(() => rec.getAttribute('data-step')).toBe('deleted');
    expect(await rec.textContent()).toMatch(/rec-1 deleted · \d+ B · stopToneDetected · processed/);
    expect((await recorded).final).toBe('deleted');
    await expect.poll(() => cellText(voicemail, 'deadline').textContent()).toBe('in 44:00');

    // The other call's far side leaves without a word; its next keepAlive gets 404.
    await h.clock.advance(9 * MIN);
    h.emulator.control.hangUpByCaller(gone, { silent: true });
    await h.clock.advance(5 * MIN);
    await expect.poll(() => cellText(voicemail, 'state').textContent()).toBe('keepAliveDue');
    expect(await cellText(voicemail, 'deadline').textContent()).toBe('in 30:00');
    expect(await cellText(voicemail, 'next').textContent()).toBe('sending');
    await page.locator(`tr[data-call="${voicemail}"]`).click();
    await expect.poll(() => page.locator('#diagram').getAttribute('data-lit')).toBe('keepAliveDue');
    expect(await page.locator('#diagram g.lit').count()).toBe(1);
    await expect.poll(() => cellText(gone, 'end').textContent()).toBe('notFound (HTTP 404)');
    expect(await row(gone).getAttribute('class')).toContain('ended');
    await expect.poll(() => cellText(refused, 'state').textContent()).toBe('retryWait');
    expect(await cellText(refused, 'next').textContent()).toMatch(/^retry in 0:0\d$/);
    expect(await cellText(refused, 'deadline').getAttribute('class')).toContain('late');
    await expect
      .poll(() =>
        page.locator('#requests tr', { hasText: refused }).first().locator('td.retry').textContent(),
      )
      .toMatch(/^retry in \d+\.\d s$/);
    const lastRequests = await page.locator('#requests tbody').textContent();
    expect(lastRequests).toContain(`POST /v1.0/communications/calls/${gone}/keepAlive404`);
    // Each request once, though the first frames overlap.
    expect(await page.locator('#requests td.path', { hasText: 'recordResponse' }).count()).toBe(1);

    await h.clock.advance(5_000);
    await expect.poll(() => cellText(voicemail, 'state').textContent()).toBe('active');
    await expect.poll(() => cellText(voicemail, 'deadline').textContent()).toBe('in 45:00');
    await expect.poll(() => cellText(voicemail, 'count').textContent()).toBe('1');
    await expect.poll(() => page.locator('#diagram').getAttribute('data-lit')).toBe('active');
    // Time passing without any state change still moves the countdowns.
    await h.clock.advance(2 * MIN);
    await expect.poll(() => cellText(voicemail, 'deadline').textContent()).toBe('in 43:00');
    await expect.poll(() => cellText(voicemail, 'since').textContent()).toBe('2:00');

    if (process.env.GCM_VIEW_SCREENSHOT)
      await page.screenshot({ path: process.env.GCM_VIEW_SCREENSHOT, fullPage: true });

    const html = await page.content();
    expect(html).not.toContain('test-app-token');
    expect(recordingTokens.length).toBeGreaterThan(0);
    for (const token of recordingTokens) expect(html).not.toContain(token);
    expect([...origins]).toEqual([new URL(view.url).origin]);
    expect(problems).toEqual([]);
  });

  it('without mermaid (an optional peer) the page lights the state in a text list', async () => {
    if (!haveChromium) throw new Error(missingChromiumMessage);
    const bare = await browser.newPage();
    try {
      await bare.route('**/vendor/mermaid.min.js', (r) => r.fulfill({ status: 404, body: 'not installed' }));
      await bare.goto(view.url);
      await expect.poll(() => bare.locator('#diagram').getAttribute('data-renderer')).toBe('text');
      await expect.poll(() => bare.locator('#diagram li.lit').textContent()).toBe('active');
      // Every state of the call machine, nested ones too (the leaf is what gets lit).
      expect(await bare.locator('#diagram li').count()).toBe(allStates(callMachine.root.states).length);
    } finally {
      await bare.close();
    }
  });
});

function allStates(states: Record<string, { states: Record<string, unknown> }>): string[] {
  return Object.entries(states).flatMap(([name, node]) => [
    name,
    ...allStates(node.states as Record<string, { states: Record<string, unknown> }>),
  ]);
}
