/**
 * Every request the emulator saw (Graph, downloads, OpenID; not the control
 * API): clock time, route, status, call, and the client's request id. Never
 * the Authorization header.
 */
import { normalizeId } from '../graph/ids.js';
import type { RequestFilter, RequestRecord } from './types.js';

/** Oldest entries are dropped beyond this, so a long-running emulator does not grow without bound. */
export const MAX_LOG_ENTRIES = 100_000;

export class RequestLog {
  #records: RequestRecord[] = [];
  #seq = 0;

  start(entry: Omit<RequestRecord, 'seq' | 'status' | 'faults'>): RequestRecord {
    const record: RequestRecord = { ...entry, seq: ++this.#seq, status: 0, faults: [] };
    this.#records.push(record);
    if (this.#records.length > MAX_LOG_ENTRIES) this.#records.splice(0, MAX_LOG_ENTRIES / 10);
    return record;
  }

  list(filter: RequestFilter = {}): RequestRecord[] {
    const callId = filter.callId === undefined ? undefined : normalizeId(filter.callId);
    const method = filter.method?.toUpperCase();
    return this.#records
      .filter(
        (r) =>
          (filter.route === undefined || r.route === filter.route) &&
          (callId === undefined || (r.callId !== undefined && normalizeId(r.callId) === callId)) &&
          (method === undefined || r.method === method) &&
          (filter.status === undefined || r.status === filter.status),
      )
      .map((r) => ({ ...r, faults: [...r.faults] }));
  }

  clear(): void {
    this.#records = [];
  }
}
