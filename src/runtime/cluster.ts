/**
 * The runtime's side of clustering: the notification work a cluster adapter
 * must not know (reading call ids, sealing batches that may carry recording
 * tokens, parsing them again). The contract itself is in src/ports/cluster.ts.
 */
import { normalizeId } from '../graph/ids.js';
import { parseNotifications } from '../notifications/index.js';
import type { ClusterAdapter, ClusterNode } from '../ports/cluster.js';
import { SealError } from '../ports/errors.js';
import { parseRecordingTokenKey, type RecordingTokenKey } from '../ports/recording-token-key.js';
import { seal, unseal } from './seal.js';

export type { ClusterAdapter, ClusterLogEntry, ClusterNode } from '../ports/cluster.js';

export type NotificationCodec = Pick<ClusterNode, 'callIdOf' | 'pack' | 'unpack'>;

/** Seals with the recording token key, bound to the call id, so a batch opens only for the call it was sealed for. */
export function notificationCodec(recordingTokenKey: RecordingTokenKey): NotificationCodec {
  const sealingKey = parseRecordingTokenKey(recordingTokenKey);
  return {
    callIdOf: (item) => (item.ref?.callId ? normalizeId(item.ref.callId) : undefined),
    pack: (callId, items) =>
      seal(sealingKey, JSON.stringify({ value: items.map((i) => i.raw ?? {}) }), callId),
    unpack: (callId, packed) => parseNotifications(unseal(sealingKey, packed, callId)),
  };
}

/** The key a cluster adapter seals with (its deprecated `tokenKey` when it names no other). */
export const clusterTokenKey = (cluster: ClusterAdapter): RecordingTokenKey | undefined =>
  cluster.recordingTokenKey ?? cluster.tokenKey;

export function clusterCodec(cluster: ClusterAdapter): NotificationCodec {
  const key = clusterTokenKey(cluster);
  if (key === undefined) throw new SealError('invalidKey', 'the cluster adapter has no recordingTokenKey');
  return notificationCodec(key);
}
