/** The file store on a real temp directory: modes, paths, streaming, cleanup. */
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../src/adapters/clock.js';
import { createFileRecordingStore, type FileRecordingStore } from '../../src/adapters/file-store.js';

/** The collector, for the memory sanity check (V8 exposes it to a fresh context once the flag is set). */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const mode = async (p: string) => (await stat(p)).mode & 0o777;

describe('file recording store', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0)) await c();
  });
  const make = (opts?: Parameters<typeof createFileRecordingStore>[0]) => {
    const store = createFileRecordingStore(opts);
    cleanup.push(() => store.close());
    return store;
  };

  it('keeps clips in a private 0700 temp directory, each file 0600', async () => {
    const store = make();
    const clip = await store.write('call-rec-1', Readable.from([Buffer.from('hello')]));
    const dir = await store.dir;
    expect(dir.startsWith(join(tmpdir(), 'graph-call-machines-'))).toBe(true);
    expect(await mode(dir)).toBe(0o700);
    expect(clip.path).toBe(join(dir, 'call-rec-1.clip'));
    expect(await mode(clip.path!)).toBe(0o600);
    expect(clip.bytes).toBe(5);
  });

  it('two stores get two different directories', async () => {
    const a = make();
    const b = make();
    expect(await a.dir).not.toBe(await b.dir);
  });

  it('close() removes the directory and everything in it', async () => {
    const store = make();
    await store.write('a', Readable.from([Buffer.from('1')]));
    await store.write('b', Readable.from([Buffer.from('2')]));
    const dir = await store.dir;
    expect((await readdir(dir)).sort()).toEqual(['a.clip', 'b.clip']);
    await store.close();
    expect(existsSync(dir)).toBe(false);
  });

  it('a key never escapes the directory: nothing is created beside it', async () => {
    const store = make();
    await store.write('inside', Readable.from([Buffer.from('x')]));
    const dir = await store.dir;
    const parent = dirname(dir);
    const before = new Set(await readdir(parent));
    for (const key of ['../outside', '../../outside', '..', 'a/../../b'])
      await expect(store.write(key, Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
        code: 'invalidKey',
      });
    const added = (await readdir(parent)).filter((n) => !before.has(n));
    expect(added).toEqual([]);
    expect(await readdir(dir)).toEqual(['inside.clip']);
  });

  it('a failed write leaves no partial file on disk', async () => {
    const store = make();
    let sent = 0;
    const source = new Readable({
      read() {
        if (sent++ < 20) this.push(Buffer.alloc(64 * 1024));
        else this.destroy(new Error('download cut'));
      },
    });
    await expect(store.write('partial', source)).rejects.toThrow('download cut');
    expect(await readdir(await store.dir)).toEqual([]);
  });

  it('an aborted write leaves no file on disk; close() in the middle of a write leaves no directory', async () => {
    const store = make();
    const ac = new AbortController();
    let n = 0;
    const endless = new Readable({
      read() {
        if (++n === 10) ac.abort();
        this.push(Buffer.alloc(16 * 1024, 1));
      },
    });
    await expect(store.write('aborted', endless, ac.signal)).rejects.toMatchObject({ name: 'AbortError' });
    const dir = await store.dir;
    expect(await readdir(dir)).toEqual([]);
    // close() from inside the source, while the file is open and half written.
    let closed: Promise<void> | undefined;
    let m = 0;
    const cut = new Readable({
      read() {
        if (++m === 5) closed = store.close();
        this.push(Buffer.alloc(16 * 1024, 2));
      },
    });
    await expect(store.write('cut', cut)).rejects.toMatchObject({ code: 'closed' });
    await closed;
    expect(existsSync(dir)).toBe(false);
  });

  it('streams 20 MB with backpressure: the source never runs far ahead of the disk', async () => {
    const store = make();
    const total = 20 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x5a);
    const path = join(await store.dir, 'big.clip');
    let produced = 0;
    let maxAhead = 0;
    const source = new Readable({
      read() {
        if (produced >= total) return this.push(null);
        // How much the source has produced that is not on disk yet.
        const onDisk = existsSync(path) ? statSync(path).size : 0;
        maxAhead = Math.max(maxAhead, produced - onDisk);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const clip = await store.write('big', source);
    expect(clip.bytes).toBe(total);
    expect((await stat(path)).size).toBe(total);
    // A store that buffered the clip first would be ~20 MB ahead.
    expect(maxAhead).toBeLessThan(2 * 1024 * 1024);
  });

  it('20 MB of fresh chunks: memory held and resident set grow far less than 20 MB (sanity)', async () => {
    const store = make();
    const total = 20 * 1024 * 1024;
    const chunk = 64 * 1024;
    let produced = 0;
    const peak = { rss: 0, buffers: 0 };
    gc();
    const before = process.memoryUsage();
    const source = new Readable({
      read() {
        if (produced >= total) return this.push(null);
        // Every MiB: collect, then see what is still held (a store keeping the chunks would hold it all).
        if (produced % (1024 * 1024) === 0) {
          gc();
          const now = process.memoryUsage();
          peak.rss = Math.max(peak.rss, now.rss - before.rss);
          peak.buffers = Math.max(peak.buffers, now.arrayBuffers - before.arrayBuffers);
        }
        produced += chunk;
        this.push(Buffer.alloc(chunk, produced & 0xff)); // a new buffer each time
      },
    });
    const clip = await store.write('rss', source);
    expect(clip.bytes).toBe(total);
    expect(peak.buffers).toBeLessThan(4 * 1024 * 1024);
    expect(peak.rss).toBeLessThan(10 * 1024 * 1024);
  });

  it('a given directory is created 0700; close() removes the clips but keeps the directory', async () => {
    const base = await mkdtemp(join(tmpdir(), 'gcm-test-'));
    cleanup.push(() => rm(base, { recursive: true, force: true }));
    const dir = join(base, 'clips');
    const store = make({ dir });
    await store.write('c1', Readable.from([Buffer.from('x')]));
    await writeFile(join(dir, 'not-ours.txt'), 'keep');
    expect(await mode(dir)).toBe(0o700);
    expect(await store.list()).toEqual(['c1']);
    await store.close();
    expect(await readdir(dir)).toEqual(['not-ours.txt']);
  });

  it('writes are tracked on a simulated clock, so time waits for the disk', async () => {
    const clock = new SimulatedClock();
    const store: FileRecordingStore = make({ clock });
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    async function* slow() {
      yield Buffer.from('a');
      await gate;
      yield Buffer.from('b');
    }
    const writing = store.write('slow', slow());
    expect(clock.inFlight).toBe(1);
    release();
    await writing;
    expect(clock.inFlight).toBe(0);
  });
});
