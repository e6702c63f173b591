import { describe, expect, it } from 'vitest';
import { CURRENT_SERVICE_LIMITS, SPEC_LIMITS } from '../../src/graph/limits.js';
import {
  CALL_STATES,
  CallSchema,
  COMPLETION_REASONS,
  CommsNotificationsSchema,
  GraphErrorBodySchema,
  RecordOperationSchema,
  RecordOptionsSchema,
  recordOptionsSchema,
  STOP_TONES,
} from '../../src/graph/schemas.js';

const TIMEOUTS = [
  'initialSilenceTimeoutInSeconds',
  'maxSilenceTimeoutInSeconds',
  'maxRecordDurationInSeconds',
];
const prompt = { mediaInfo: { uri: 'https://cdn.example.com/beep.wav', resourceId: 'p1' } };

describe('record options', () => {
  it('applies the documented defaults', () => {
    expect(RecordOptionsSchema.parse({})).toEqual({
      bargeInAllowed: false,
      initialSilenceTimeoutInSeconds: 5,
      maxSilenceTimeoutInSeconds: 5,
      maxRecordDurationInSeconds: 5,
      playBeep: true,
    });
  });

  it('accepts a full valid request and types the prompt', () => {
    const out = RecordOptionsSchema.parse({
      prompts: [prompt],
      bargeInAllowed: true,
      initialSilenceTimeoutInSeconds: 10,
      maxSilenceTimeoutInSeconds: 3,
      maxRecordDurationInSeconds: 120,
      playBeep: false,
      stopTones: ['#', '*', '1'],
      clientContext: 'ctx-1',
    });
    expect(out.prompts?.[0]?.['@odata.type']).toBe('#microsoft.graph.mediaPrompt');
    expect(out.stopTones).toEqual(['#', '*', '1']);
  });

  for (const [name, limits, max] of [
    ['SPEC_LIMITS', SPEC_LIMITS, 300],
    ['CURRENT_SERVICE_LIMITS', CURRENT_SERVICE_LIMITS, 120],
  ] as const) {
    it(`bounds every timeout to 1..${max} under ${name}`, () => {
      const schema = recordOptionsSchema(limits);
      for (const field of TIMEOUTS) {
        expect(schema.safeParse({ [field]: 0 }).success, `${field}=0`).toBe(false);
        expect(schema.safeParse({ [field]: 1 }).success, `${field}=1`).toBe(true);
        expect(schema.safeParse({ [field]: max }).success, `${field}=${max}`).toBe(true);
        expect(schema.safeParse({ [field]: max + 1 }).success, `${field}=${max + 1}`).toBe(false);
        expect(schema.safeParse({ [field]: 2.5 }).success, `${field}=2.5`).toBe(false);
        const issue = schema.safeParse({ [field]: max + 1 }).error?.issues[0];
        expect(issue?.path).toEqual([field]);
      }
    });
  }

  it('allows one prompt, not two', () => {
    expect(RecordOptionsSchema.safeParse({ prompts: [prompt] }).success).toBe(true);
    const two = RecordOptionsSchema.safeParse({ prompts: [prompt, prompt] });
    expect(two.success).toBe(false);
    expect(two.error?.issues[0]?.path).toEqual(['prompts']);
  });

  it('limits clientContext to 256 characters', () => {
    expect(RecordOptionsSchema.safeParse({ clientContext: 'x'.repeat(256) }).success).toBe(true);
    expect(RecordOptionsSchema.safeParse({ clientContext: 'x'.repeat(257) }).success).toBe(false);
  });

  it('accepts each stop tone and rejects others', () => {
    for (const tone of STOP_TONES)
      expect(RecordOptionsSchema.safeParse({ stopTones: [tone] }).success, tone).toBe(true);
    for (const bad of ['E', 'tone1', '**', 'pound', ''])
      expect(RecordOptionsSchema.safeParse({ stopTones: [bad] }).success, bad).toBe(false);
  });

  it('rejects unknown keys (strict)', () => {
    const r = RecordOptionsSchema.safeParse({ maxRecordDurationInSecond: 10 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.code).toBe('unrecognized_keys');
  });
});

describe('recordOperation', () => {
  const base = {
    '@odata.type': '#microsoft.graph.recordOperation',
    id: '0fe0623f-d628-42ed-b4bd-8ac290072cc5',
    clientContext: 'd45324c1-fcb5-430a-902c-f20af696537c',
  };

  it('parses the POST response and accepts string result codes and a capitalised status', () => {
    const op = RecordOperationSchema.parse({
      ...base,
      status: 'Completed',
      resultInfo: { code: '200', subcode: '8515', message: 'Action completed, max record duration reached.' },
      recordingLocation: 'https://file.location/17e3b46c',
      recordingAccessToken: 'tok',
      completionReason: 'MaxRecordDurationReached',
    });
    expect(op.status).toBe('completed');
    expect(op.resultInfo).toMatchObject({ code: 200, subcode: 8515 });
    expect(op.completionReason).toBe('maxRecordDurationReached');
    expect(op.recordingLocation).toBe('https://file.location/17e3b46c');
  });

  it('maps the legacy recordResource* names', () => {
    const op = RecordOperationSchema.parse({
      ...base,
      status: 'completed',
      recordResourceLocation: 'https://file.location/legacy',
      recordResourceAccessToken: 'legacy-token',
    });
    expect(op.recordingLocation).toBe('https://file.location/legacy');
    expect(op.recordingAccessToken).toBe('legacy-token');
    expect(op).not.toHaveProperty('recordResourceLocation');
  });

  it('turns the empty strings of the cancellation shape into null', () => {
    const op = RecordOperationSchema.parse({
      ...base,
      status: 'failed',
      resultInfo: { code: 400, subcode: 8508, message: 'Action failed, the operation was cancelled.' },
      recordingLocation: '',
      recordingAccessToken: '',
      completionReason: 'operationCanceled',
    });
    expect(op).toMatchObject({
      status: 'failed',
      recordingLocation: null,
      recordingAccessToken: null,
      completionReason: 'operationCanceled',
    });
  });

  it('parses every completion reason', () => {
    for (const reason of COMPLETION_REASONS) {
      const op = RecordOperationSchema.parse({ ...base, status: 'completed', completionReason: reason });
      expect(op.completionReason).toBe(reason);
    }
  });

  it('rejects a recordOperation without id or status', () => {
    expect(RecordOperationSchema.safeParse({ ...base, id: undefined, status: 'running' }).success).toBe(
      false,
    );
    expect(RecordOperationSchema.safeParse({ ...base }).success).toBe(false);
  });
});

describe('call', () => {
  it('parses every call state, in any case', () => {
    for (const state of CALL_STATES) {
      expect(CallSchema.parse({ '@odata.type': '#microsoft.graph.call', state }).state).toBe(state);
      expect(
        CallSchema.parse({ '@odata.type': '#microsoft.graph.call', state: state.toUpperCase() }).state,
      ).toBe(state);
    }
  });
});

describe('commsNotifications', () => {
  const recordDone = {
    '@odata.type': '#microsoft.graph.recordOperation',
    id: '0fe0623f-d628-42ed-b4bd-8ac290072cc5',
    status: 'completed',
    recordingLocation: 'https://file.location/1',
    recordingAccessToken: 'tok',
  };
  const notification = (resourceData: unknown, extra: Record<string, unknown> = {}) => ({
    '@odata.type': '#microsoft.graph.commsNotifications',
    value: [
      {
        '@odata.type': '#microsoft.graph.commsNotification',
        changeType: 'deleted',
        resourceUrl:
          '/communications/calls/57DAB8B1894C409AB240BD8BEAE78896/operations/0FE0623FD62842EDB4BD8AC290072CC5',
        resourceData,
        ...extra,
      },
    ],
  });

  it('takes resourceData as an object or as an array', () => {
    const one = CommsNotificationsSchema.parse(notification(recordDone));
    const many = CommsNotificationsSchema.parse(
      notification([recordDone, { '@odata.type': '#microsoft.graph.call', state: 'terminated' }]),
    );
    expect(one.value[0]!.resourceData).toHaveLength(1);
    expect(one.value[0]!.resourceData[0]!.kind).toBe('recordOperation');
    expect(many.value[0]!.resourceData.map((r) => r.kind)).toEqual(['recordOperation', 'call']);
  });

  it('accepts the legacy `resource` instead of resourceUrl, and a capitalised changeType', () => {
    const n = notification(recordDone, {
      resourceUrl: undefined,
      resource: '/app/calls/57da/operations/0fe0',
    });
    n.value[0]!.changeType = 'Deleted';
    const parsed = CommsNotificationsSchema.parse(n);
    expect(parsed.value[0]!.resource).toBe('/app/calls/57da/operations/0fe0');
    expect(parsed.value[0]!.changeType).toBe('deleted');
  });

  it('requires resourceUrl or resource', () => {
    expect(
      CommsNotificationsSchema.safeParse(notification(recordDone, { resourceUrl: undefined })).success,
    ).toBe(false);
  });

  it('keeps an unknown @odata.type as kind unknown', () => {
    const parsed = CommsNotificationsSchema.parse(
      notification({ '@odata.type': '#microsoft.graph.participant', id: 'p1', info: { x: 1 } }),
    );
    const item = parsed.value[0]!.resourceData[0]!;
    expect(item.kind).toBe('unknown');
    expect(item.data).toMatchObject({ id: 'p1', info: { x: 1 } });
  });

  it('rejects a known type with an invalid body', () => {
    const { id: _id, ...noId } = recordDone;
    expect(CommsNotificationsSchema.safeParse(notification(noId)).success).toBe(false);
    expect(CommsNotificationsSchema.safeParse(notification({ ...recordDone, status: 42 })).success).toBe(
      false,
    );
    expect(
      CommsNotificationsSchema.safeParse(notification({ '@odata.type': '#microsoft.graph.call', state: 7 }))
        .success,
    ).toBe(false);
  });
});

describe('Graph error body', () => {
  it('reads innerError and the schema spelling innererror', () => {
    const a = GraphErrorBodySchema.parse({
      error: { code: '8522', message: 'Call not found.', innerError: { 'request-id': 'r1', date: 'd' } },
    });
    expect(a.error.code).toBe('8522');
    expect(a.error.innerError?.['request-id']).toBe('r1');
    const b = GraphErrorBodySchema.parse({
      error: { code: 'Forbidden', message: 'no', innererror: { requestId: 'r2' } },
    });
    expect(b.error.innererror?.requestId).toBe('r2');
  });

  it('turns a numeric code into a string and defaults the message', () => {
    const e = GraphErrorBodySchema.parse({ error: { code: 8522 } });
    expect(e.error.code).toBe('8522');
    expect(e.error.message).toBe('');
  });

  it('rejects a body without error.code', () => {
    expect(GraphErrorBodySchema.safeParse({ error: { message: 'x' } }).success).toBe(false);
    expect(GraphErrorBodySchema.safeParse({ message: 'x' }).success).toBe(false);
  });
});
