/**
 * The runtime's side of clustering: the notification work a cluster adapter
 * must not know (reading call ids, sealing batches that may carry recording
 * tokens, parsing them again). The contract itself is in src/ports/cluster.ts.
 */
import { normalizeId } from '../graph/ids.js';
import { parseNotifications } from '../notifications/index.js';
import type { ClusterNode } from '../ports/cluster.js';
import { parseSealKey, type SealKey } from '../ports/seal-key.js';
import { seal, unseal } from './seal.js';

export type { ClusterAdapter, ClusterLogEntry, ClusterNode } from '../ports/cluster.js';

export type NotificationCodec = Pick<ClusterNode, 'callIdOf' | 'pack' | 'unpack'>;

/** Seals with `tokenKey`, bound to the call id, so a batch opens only for the call it was sealed for. */
export function notificationCodec(tokenKey: SealKey): NotificationCodec {
  const sealingKey = parseSealKey(tokenKey);
  return {
    callIdOf: (item) => (item.ref?.callId ? normalizeId(item.ref.callId) : undefined),
    pack: (callId, items) =>
      seal(sealingKey, JSON.stringify({ value: items.map((i) => i.raw ?? {}) }), callId),
    unpack: (callId, packed) => parseNotifications(unseal(sealingKey, packed, callId)),
  };
}
