/**
 * What every RecordingStore promises, run against both stores: safe keys, no
 * overwrite, nothing kept from a failed or aborted write, idempotent delete,
 * close() empties the store.
 */
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createFileRecordingStore } from '../../src/adapters/file-store.js';
import { createMemoryRecordingStore } from '../../src/adapters/memory-store.js';
import type { RecordingStore } from '../../src/adapters/recording-store.js';
import { RecordingStoreError } from '../../src/adapters/store-key.js';

const stores: Array<[string, () => RecordingStore]> = [
  ['file store', () => createFileRecordingStore()],
  ['memory store', () => createMemoryRecordingStore()],
];

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/** Emits `chunks` chunks of 1 KiB, then fails with `error`; `emitted` counts what it produced. */
function failingSource(chunks: number, error: Error) {
  const state = { emitted: 0 };
  const stream = new Readable({
    read() {
      if (state.emitted < chunks) {
        state.emitted++;
        this.push(Buffer.alloc(1024, 7));
      } else this.destroy(error);
    },
  });
  return { stream, state };
}

/** An endless source; calls `onChunk(n)` after producing chunk n. */
function endlessSource(onChunk: (n: number) => void) {
  let n = 0;
  return new Readable({
    read() {
      n++;
      this.push(Buffer.alloc(1024, 1));
      onChunk(n);
    },
  });
}

describe.each(stores)('%s', (_name, make) => {
  let store: RecordingStore;
  afterEach(async () => {
    await store?.close();
  });

  it('writes a stream, counts its bytes and reads it back', async () => {
    store = make();
    const clip = await store.write('abc-rec-1', Readable.from([Buffer.from('RIFF'), Buffer.from('data!')]));
    expect(clip).toMatchObject({ key: 'abc-rec-1', bytes: 9 });
    expect((await readAll(store.open('abc-rec-1'))).toString()).toBe('RIFFdata!');
    expect(await store.list()).toEqual(['abc-rec-1']);
  });

  it('accepts an async iterable of Uint8Array', async () => {
    store = make();
    async function* gen() {
      yield new Uint8Array([1, 2, 3]);
      yield new Uint8Array([4]);
    }
    const clip = await store.write('k1', gen());
    expect(clip.bytes).toBe(4);
    expect([...(await readAll(store.open('k1')))]).toEqual([1, 2, 3, 4]);
  });

  it.each([
    '../escape',
    '..',
    '.',
    '.hidden',
    'a/b',
    '/etc/passwd',
    'a\\b',
    'a..b',
    '',
    'nul\0byte',
    'space key',
    'x'.repeat(201),
  ])('rejects the key %j for write, open and delete', async (key) => {
    store = make();
    const err = await store.write(key, Readable.from([Buffer.from('x')])).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecordingStoreError);
    expect((err as RecordingStoreError).code).toBe('invalidKey');
    expect(() => store.open(key)).toThrow(RecordingStoreError);
    await expect(store.delete(key)).rejects.toThrow(RecordingStoreError);
    expect(await store.list()).toEqual([]);
  });

  it('never overwrites: a second write under the same key fails and keeps the first clip', async () => {
    store = make();
    await store.write('same', Readable.from([Buffer.from('first')]));
    const err = await store.write('same', Readable.from([Buffer.from('second')])).catch((e: unknown) => e);
    expect((err as RecordingStoreError).code).toBe('exists');
    expect((await readAll(store.open('same'))).toString()).toBe('first');
  });

  it('two concurrent writes under one key: one wins, the other fails, the winner is intact', async () => {
    store = make();
    const a = store.write('race', Readable.from([Buffer.from('aaaa')]));
    const b = store.write('race', Readable.from([Buffer.from('bbbb')]));
    const results = await Promise.allSettled([a, b]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const body = (await readAll(store.open('race'))).toString();
    expect(['aaaa', 'bbbb']).toContain(body);
  });

  it('a source that errors midway leaves no entry, and the error is the source error', async () => {
    store = make();
    const { stream, state } = failingSource(5, new Error('connection reset'));
    await expect(store.write('broken', stream)).rejects.toThrow('connection reset');
    expect(state.emitted).toBe(5);
    expect(await store.list()).toEqual([]);
    // The key is free again: a retry can use it.
    await store.write('broken', Readable.from([Buffer.from('ok')]));
    expect(await store.list()).toEqual(['broken']);
  });

  it('an abort midway leaves no entry and destroys the source', async () => {
    store = make();
    const ac = new AbortController();
    const source = endlessSource((n) => {
      if (n === 10) ac.abort();
    });
    const err = await store.write('aborted', source, ac.signal).catch((e: unknown) => e);
    expect((err as Error).name).toBe('AbortError');
    expect(source.destroyed).toBe(true);
    expect(await store.list()).toEqual([]);
  });

  it('an already aborted signal writes nothing and does not read the source', async () => {
    store = make();
    let reads = 0;
    const source = new Readable({
      read() {
        reads++;
        this.push(null);
      },
    });
    await expect(store.write('pre', source, AbortSignal.abort())).rejects.toThrow();
    expect(reads).toBe(0);
    expect(await store.list()).toEqual([]);
  });

  it('delete is idempotent, also for keys never written', async () => {
    store = make();
    await store.write('gone', Readable.from([Buffer.from('x')]));
    await store.delete('gone');
    await store.delete('gone');
    await store.delete('never-written');
    expect(await store.list()).toEqual([]);
  });

  it('open on a missing key fails on the stream with notFound', async () => {
    store = make();
    await store.write('other', Readable.from([Buffer.from('x')]));
    const err = await readAll(store.open('missing')).catch((e: unknown) => e);
    expect((err as RecordingStoreError).code).toBe('notFound');
  });

  it('close() empties the store, aborts running writes, and later writes fail', async () => {
    store = make();
    await store.write('one', Readable.from([Buffer.from('1')]));
    let closing: Promise<void> | undefined;
    const hanging = store.write(
      'hanging',
      endlessSource((n) => {
        if (n === 3) closing = store.close();
      }),
    );
    await expect(hanging).rejects.toMatchObject({ code: 'closed' });
    await closing;
    expect(await store.list()).toEqual([]);
    await expect(store.write('late', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({
      code: 'closed',
    });
    await store.close(); // idempotent
  });
});
