/**
 * The live view with 1,000 calls in headless Chromium: the page holds only
 * the rows in view (a full table made the browser lay out every row each
 * frame), yet any call is there once scrolled to or filtered for, with its
 * countdowns on the runtime's clock.
 */
import type { Browser, Page } from 'playwright-core';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpAttemptEvent } from '../../src/adapters/http.js';
import { createLiveView, type LiveView } from '../../src/view/index.js';
import { haveChromium, launchChromium, missingChromiumMessage, skipBrowser } from './chromium.js';
import { fakeRuntime } from './sse.js';

const MIN = 60_000;
const CALLS = 1_000;
const idOf = (i: number) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;

describe.skipIf(skipBrowser)('live view with 1,000 calls', () => {
  const runtime = fakeRuntime();
  const attempts = new Subject<HttpAttemptEvent>();
  let view: LiveView;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    if (!haveChromium) return;
    view = await createLiveView({ runtime, requests: attempts, frameMs: 50 });
    const t = runtime.now;
    for (let i = 0; i < CALLS; i++) {
      // Call i is i seconds behind call 0: its next keepAlive and deadline i seconds later.
      runtime.contexts.set(idOf(i), {
        startedAt: t,
        nextKeepAliveAt: t + 15 * MIN + i * 1000,
        deadlineAt: t + 45 * MIN + i * 1000,
      });
      runtime.state(idOf(i), 'active');
    }
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  });

  afterAll(async () => {
    await browser?.close();
    await view?.close();
  });

  const rows = () => page.locator('#calls tbody tr[data-call]');
  const cell = (i: number, cls: string) => page.locator(`tr[data-call="${idOf(i)}"] td.${cls}`);

  it('holds only the rows in view, and shows any call scrolled to, counting on the runtime clock', async () => {
    if (!haveChromium) throw new Error(missingChromiumMessage);
    await page.goto(view.url);
    await expect.poll(() => page.locator('#counts').textContent()).toBe(`${CALLS} live · 0 ended`);
    await expect.poll(() => cell(0, 'deadline').textContent()).toBe('in 45:00');
    expect(await rows().count()).toBeLessThanOrEqual(80);

    // Scroll call 700 into the box: the page renders it then.
    await page.evaluate(
      "document.querySelector('#calls-box').scrollTop = 700 * document.querySelector('#calls tr[data-call]').offsetHeight",
    );
    await expect.poll(() => cell(700, 'deadline').textContent()).toBe('in 56:40');
    expect(await cell(700, 'next').textContent()).toBe('in 26:40');
    expect(await cell(0, 'state').count()).toBe(0);
    expect(await rows().count()).toBeLessThanOrEqual(80);

    // The runtime's clock moves a minute, and a state changes: the row in view follows both.
    runtime.now += MIN;
    runtime.state(idOf(700), 'keepAliveDue');
    await expect.poll(() => cell(700, 'state').textContent()).toBe('keepAliveDue');
    await expect.poll(() => cell(700, 'deadline').textContent()).toBe('in 55:40');
    expect(await cell(700, 'next').textContent()).toBe('sending');
    expect(await cell(700, 'since').textContent()).toBe('0:00');
    expect(await cell(699, 'since').textContent()).toBe('1:00');
  });

  it('filters by call id or state, and lights the filtered call picked', async () => {
    if (!haveChromium) throw new Error(missingChromiumMessage);
    await page.locator('#filter').fill(idOf(3).slice(-17));
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows().first().getAttribute('data-call')).toBe(idOf(3));
    expect(await page.locator('#shown').textContent()).toBe(`1 of ${CALLS} shown`);
    expect(await cell(3, 'deadline').textContent()).toBe('in 44:03');

    await page.locator('#filter').fill('keepalivedue');
    await expect.poll(() => rows().count()).toBe(1);
    await page.locator(`tr[data-call="${idOf(700)}"]`).click();
    await expect.poll(() => page.locator('#selected').textContent()).toBe(`${idOf(700)} in keepAliveDue`);
    await expect.poll(() => page.locator('#diagram').getAttribute('data-lit')).toBe('keepAliveDue');
    expect(await page.locator(`tr[data-call="${idOf(700)}"]`).getAttribute('class')).toContain('selected');

    // Back to active: it leaves the filtered list.
    runtime.state(idOf(700), 'active');
    await expect.poll(() => rows().count()).toBe(0);
    await page.locator('#filter').fill('');
    await expect.poll(() => page.locator('#shown').textContent()).toBe('');
    await expect.poll(() => cell(0, 'state').textContent()).toBe('active');
    expect(await rows().count()).toBeLessThanOrEqual(80);
  });

  it('under a flood of Graph requests, still lists the latest 50, newest first', async () => {
    if (!haveChromium) throw new Error(missingChromiumMessage);
    // 40 a frame for a while, as 1,000 calls on a 5 s keepAlive make: the page draws them in batches.
    for (let n = 0; n < 10; n++) {
      for (let i = 0; i < 40; i++) {
        const call = idOf(n * 40 + i);
        attempts.next({
          method: 'POST',
          url: `https://graph.invalid/v1.0/communications/calls/${call}/keepAlive`,
          attempt: 1,
          status: 200,
          durationMs: 2,
        } as HttpAttemptEvent);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    const paths = page.locator('#requests td.path');
    await expect
      .poll(() => paths.first().textContent())
      .toBe(`POST /v1.0/communications/calls/${idOf(399)}/keepAlive`);
    expect(await paths.count()).toBe(50);
    expect(await paths.nth(49).textContent()).toBe(`POST /v1.0/communications/calls/${idOf(350)}/keepAlive`);
  });
});
