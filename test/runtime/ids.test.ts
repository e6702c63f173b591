/**
 * Ids the runtime draws come from its `ids` source: with a counter, a run on
 * simulated time repeats exactly (a record's default clientContext included).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sequentialIds } from '../../src/testing/index.js';
import { type Bench, bench, MIN } from './helpers.js';

let b: Bench | undefined;
afterEach(async () => {
  await b?.close();
  b = undefined;
});

describe('ids option', () => {
  it('records without a clientContext get the next ids of the source, the same in every run', async () => {
    for (let run = 0; run < 2; run++) {
      b = await bench({ runtime: { ids: sequentialIds('ctx') } });
      const id = b.call({ script: { caller: { kind: 'speak', seconds: 2, thenTone: '#' } } });
      const first = b.runtime.record(id, { stopTones: ['#'], maxRecordDurationInSeconds: 30 }, () => 'ok');
      await b.clock.advance(MIN);
      const second = b.runtime.record(id, { stopTones: ['#'], maxRecordDurationInSeconds: 30 }, () => 'ok');
      await b.clock.advance(MIN);
      expect(await first).toMatchObject({ outcome: 'processed', clientContext: 'ctx-1' });
      expect(await second).toMatchObject({ clientContext: 'ctx-2' });
      await b.close();
      b = undefined;
    }
  });
});
