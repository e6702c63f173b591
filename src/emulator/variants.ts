/**
 * Notification shapes seen in the wild, each one switchable, so a client can
 * be tested against all of them. `renderNotification` turns the emulator's
 * neutral notification into the JSON Graph would post under a set of variants.
 */
import { z } from 'zod';

export interface Variants {
  /** Ids in resourceUrl upper-case without dashes, as in the docs' examples (resourceData.id stays hyphenated). */
  upperCaseIds: boolean;
  /** `resourceData` as a one-element array instead of an object. */
  arrayResourceData: boolean;
  /** Add the legacy `resource: "/app/calls/..."` beside resourceUrl (`'only'`: instead of it). */
  legacyResource: boolean | 'only';
  /** `resultInfo.code`/`subcode` as numeric strings (`"200"`). */
  stringCodes: boolean;
  /** `resultInfo.subCode` (capital C, as call-transfer.md's examples) instead of `subcode`. */
  subCode: boolean;
  /** Operation `status` capitalised (`Completed`), as Graph's metadata spells it. */
  capitalisedStatus: boolean;
  /** Notifications produced together (an operation completion and the call's end, a cancellation) share one POST. */
  batch: boolean;
  /** Old beta names `recordResourceLocation`/`recordResourceAccessToken` instead of the current ones. */
  legacyRecordingFields: boolean;
  /** Leave `completionReason` out, as v1.0's schema does. */
  omitCompletionReason: boolean;
}

export const DEFAULT_VARIANTS: Readonly<Variants> = Object.freeze({
  upperCaseIds: false,
  arrayResourceData: false,
  legacyResource: false,
  stringCodes: false,
  subCode: false,
  capitalisedStatus: false,
  batch: false,
  legacyRecordingFields: false,
  omitCompletionReason: false,
});

export const VariantsSchema = z
  .object({
    upperCaseIds: z.boolean(),
    arrayResourceData: z.boolean(),
    legacyResource: z.union([z.boolean(), z.literal('only')]),
    stringCodes: z.boolean(),
    subCode: z.boolean(),
    capitalisedStatus: z.boolean(),
    batch: z.boolean(),
    legacyRecordingFields: z.boolean(),
    omitCompletionReason: z.boolean(),
  })
  .strict();

/** A notification before variants: what changed, on which resource, with which data. */
export interface NotificationItem {
  changeType: 'created' | 'updated' | 'deleted';
  callId: string;
  operationId?: string;
  /** The resource as Graph's canonical shape (numbers for codes, lower-case statuses). */
  resourceData: Record<string, unknown>;
}

const urlId = (id: string, v: Variants) => (v.upperCaseIds ? id.replace(/-/g, '').toUpperCase() : id);

export function resourcePath(
  item: Pick<NotificationItem, 'callId' | 'operationId'>,
  v: Variants,
  prefix: string,
) {
  const call = `${prefix}/calls/${urlId(item.callId, v)}`;
  return item.operationId ? `${call}/operations/${urlId(item.operationId, v)}` : call;
}

/** One entry of a commsNotifications `value` array. */
export function renderNotification(item: NotificationItem, v: Variants): Record<string, unknown> {
  const data: Record<string, unknown> = { ...item.resourceData };
  const info = data.resultInfo as Record<string, unknown> | null | undefined;
  if (info && v.stringCodes) {
    data.resultInfo = {
      ...info,
      ...(info.code === undefined ? {} : { code: String(info.code) }),
      ...(info.subcode === undefined ? {} : { subcode: String(info.subcode) }),
    };
  }
  const renamed = data.resultInfo as Record<string, unknown> | null | undefined;
  if (renamed && v.subCode && 'subcode' in renamed) {
    const { subcode, ...rest } = renamed;
    data.resultInfo = { ...rest, subCode: subcode };
  }
  if (v.capitalisedStatus && typeof data.status === 'string')
    data.status = data.status.charAt(0).toUpperCase() + data.status.slice(1);
  if (v.omitCompletionReason) delete data.completionReason;
  if (v.legacyRecordingFields && 'recordingLocation' in data) {
    data.recordResourceLocation = data.recordingLocation;
    data.recordResourceAccessToken = data.recordingAccessToken;
    delete data.recordingLocation;
    delete data.recordingAccessToken;
  }
  const out: Record<string, unknown> = {
    '@odata.type': '#microsoft.graph.commsNotification',
    changeType: item.changeType,
  };
  if (v.legacyResource !== 'only') out.resourceUrl = resourcePath(item, v, '/communications');
  if (v.legacyResource) out.resource = resourcePath(item, v, '/app');
  out.resourceData = v.arrayResourceData ? [data] : data;
  return out;
}

export function envelope(values: Record<string, unknown>[]) {
  return { '@odata.type': '#microsoft.graph.commsNotifications', value: values };
}
