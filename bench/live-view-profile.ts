/**
 * live-view-profile: where a browser's CPU goes on the live view with 1,000
 * calls (a diagnosis, not a target figure; bench/live-view.ts has that). The
 * runtime (with the view) and a stub Graph run as in bench/live-view.ts; this
 * process drives one headless Chromium and, over a fixed window, reports:
 * CPU of the Chromium process tree (/proc), Chromium's own task, script,
 * style and layout time (CDP Performance), frames and bytes the stream sent
 * (a second, bare SSE reader), text nodes the page rewrote and row elements it
 * holds.
 *
 *   node --import tsx bench/live-view-profile.ts [--calls 1000] [--window 15]
 */
import { setTimeout as delay } from 'node:timers/promises';
import { chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../test/view/chromium.js';
import { benchFile, log, parseArgs, startHelper } from './lib.js';
import { treeCpuMs } from './proc-cpu.js';

const args = parseArgs();
const calls = Number(args.extra.get('calls') ?? 1_000);
const windowS = Number(args.extra.get('window') ?? 15);

async function main() {
  const file = benchFile('live-view.ts');
  const graph = await startHelper(file, ['--role', 'graph']);
  const origin = `http://127.0.0.1:${graph.hello.port}`;
  const rt = await startHelper(file, [
    '--role',
    'runtime',
    '--graph',
    origin,
    '--calls',
    String(calls),
    '--view',
  ]);
  const url = String(rt.hello.url);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    // Counts DOM writes the page makes (text replaced, nodes added or removed).
    await page.addInitScript(
      'window.__mut = 0; new MutationObserver((ms) => { window.__mut += ms.length; }).observe(document, { subtree: true, childList: true, characterData: true });',
    );
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    await page.goto(url);
    // --hide <selector>: that part of the page not drawn (display: none), to tell what its drawing costs.
    const hide = args.extra.get('hide');
    if (typeof hide === 'string')
      await page.addStyleTag({ content: `${hide} { display: none !important; }` });
    await delay(5_000);
    // A bare reader beside the browser: frames and bytes as sent.
    let frames = 0;
    let bytes = 0;
    let rowsSent = 0;
    const ac = new AbortController();
    const reading = fetch(`${url}events`, { signal: ac.signal })
      .then(async (r) => {
        let rest = '';
        for await (const chunk of r.body as AsyncIterable<Uint8Array>) {
          bytes += chunk.byteLength;
          const parts = (rest + Buffer.from(chunk).toString('utf8')).split('\n\n');
          rest = parts.pop() ?? '';
          for (const p of parts) {
            if (!p.startsWith('data: ')) continue;
            frames++;
            rowsSent += (JSON.parse(p.slice(6)) as { calls?: unknown[] }).calls?.length ?? 0;
          }
        }
      })
      .catch(() => {});
    await delay(2_000);
    const f0 = frames;
    const b0 = bytes;
    const r0 = rowsSent;
    const metrics = async () =>
      Object.fromEntries(
        (
          (await cdp.send('Performance.getMetrics')) as { metrics: Array<{ name: string; value: number }> }
        ).metrics.map((m) => [m.name, m.value]),
      ) as Record<string, number>;
    const m0 = await metrics();
    const mut0 = Number(await page.evaluate('window.__mut'));
    const cpu0 = treeCpuMs(process.pid, { withRoot: false, skip: 'node' });
    const t0 = performance.now();
    await delay(windowS * 1000);
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = treeCpuMs(process.pid, { withRoot: false, skip: 'node' });
    const m1 = await metrics();
    const mut1 = Number(await page.evaluate('window.__mut'));
    const rowsHeld = Number(await page.evaluate("document.querySelectorAll('#calls tr[data-call]').length"));
    const nFrames = frames - f0;
    const per = (k: string) => (((m1[k] ?? 0) - (m0[k] ?? 0)) * 1000) / seconds;
    log(`window ${seconds.toFixed(1)} s, ${calls} calls`);
    log(
      `stream: ${(nFrames / seconds).toFixed(1)} frames/s, ${((bytes - b0) / Math.max(1, nFrames) / 1024).toFixed(1)} KiB/frame, ${((bytes - b0) / seconds / 1024).toFixed(0)} KiB/s, ${((rowsSent - r0) / Math.max(1, nFrames)).toFixed(0)} call rows/frame`,
    );
    log(`chromium tree CPU (with the node reader, ~nothing): ${((cpu1 - cpu0) / seconds).toFixed(0)} ms/s`);
    log(
      `CDP per second: task ${per('TaskDuration').toFixed(0)} ms, script ${per('ScriptDuration').toFixed(0)} ms, style ${per('RecalcStyleDuration').toFixed(0)} ms, layout ${per('LayoutDuration').toFixed(0)} ms; layouts ${(per('LayoutCount') / 1000).toFixed(1)}/s`,
    );
    log(
      `DOM mutation records per frame: ${((mut1 - mut0) / Math.max(1, nFrames)).toFixed(0)}; row elements held: ${rowsHeld}`,
    );
    ac.abort();
    await reading;
  } finally {
    await browser.close();
    await rt.stop();
    await graph.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
