/**
 * fast-check arbitraries for notification bodies: Graph-shaped templates
 * aimed at a tracked call, mutations that make them invalid (each one breaks
 * the envelope, the parser's limits, or the notification item by construction), and
 * valid bodies that must change nothing (unknown calls, unknown operations,
 * unknown resource types, progress updates).
 */
import fc from 'fast-check';

type Json = unknown;
type Obj = Record<string, Json>;

export const NOTIFICATIONS_TYPE = '#microsoft.graph.commsNotifications';
export const NOTIFICATION_TYPE = '#microsoft.graph.commsNotification';

export const envelope = (...value: Json[]): Obj => ({ '@odata.type': NOTIFICATIONS_TYPE, value });

/** "The call is over": what an attacker sends to end a call. */
export function callEnded(callId: string, changeType = 'deleted'): Obj {
  return {
    '@odata.type': NOTIFICATION_TYPE,
    changeType,
    resourceUrl: `/communications/calls/${callId}`,
    resourceData: {
      '@odata.type': '#microsoft.graph.call',
      id: callId,
      state: 'terminated',
      resultInfo: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
    },
  };
}

export interface Completion {
  callId: string;
  operationId: string;
  clientContext: string;
  recordingLocation: string;
  recordingAccessToken: string;
  status?: string;
}

/** A record operation's completion, as Graph sends it. */
export function recordCompleted(c: Completion): Obj {
  return {
    '@odata.type': NOTIFICATION_TYPE,
    changeType: 'deleted',
    resourceUrl: `/communications/calls/${c.callId}/operations/${c.operationId}`,
    resourceData: {
      '@odata.type': '#microsoft.graph.recordOperation',
      id: c.operationId,
      clientContext: c.clientContext,
      status: c.status ?? 'completed',
      resultInfo: { code: 200, subcode: 8515, message: 'Action completed, max record duration reached.' },
      completionReason: 'maxRecordDurationReached',
      recordingLocation: c.recordingLocation,
      recordingAccessToken: c.recordingAccessToken,
    },
  };
}

// ---------- helpers ----------

/** Every plain object in a JSON tree, outermost first. */
function objectsIn(root: Json): Obj[] {
  const out: Obj[] = [];
  const walk = (v: Json) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') {
      out.push(v as Obj);
      Object.values(v as Obj).forEach(walk);
    }
  };
  walk(root);
  return out;
}

const clone = <T>(v: T): T => structuredClone(v);
const item0 = (b: Obj) => (b.value as Obj[])[0] as Obj;
const resource0 = (b: Obj): Obj => {
  const rd = item0(b).resourceData;
  return (Array.isArray(rd) ? rd[0] : rd) as Obj;
};

/** A placeholder that JSON.stringify keeps as is, swapped for raw text afterwards. */
const HOLE = 'zz_hole_zz';

/** Random case per letter, dashes kept or dropped: the spellings of one GUID. */
export const oddCasing = (id: string) =>
  fc
    .tuple(fc.array(fc.boolean(), { minLength: id.length, maxLength: id.length }), fc.boolean())
    .map(([ups, dropDashes]) => {
      const cased = [...id].map((c, i) => (ups[i] ? c.toUpperCase() : c.toLowerCase())).join('');
      return dropDashes ? cased.replace(/-/g, '') : cased;
    });

// ---------- values that are never what the schema wants ----------

const notAString = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);
const notAnObject = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.integer(),
  fc.boolean(),
  fc.array(fc.string({ maxLength: 5 }), { minLength: 1, maxLength: 3 }),
);
const CHANGE_TYPES = new Set(['created', 'updated', 'deleted']);
const badChangeType = fc.oneof(
  notAString,
  fc.string({ maxLength: 12 }).filter((s) => !CHANGE_TYPES.has(s.toLowerCase())),
);
const tooLong = (min: number) => fc.integer({ min, max: min + 500 }).map((n) => 'x'.repeat(n));

// ---------- mutations: each returns the JSON text of an invalid body ----------

type Mutation = (body: Obj) => string;
const set =
  (pick: (b: Obj) => Obj, key: string, value: Json): Mutation =>
  (body) => {
    const b = clone(body);
    pick(b)[key] = value;
    return JSON.stringify(b);
  };
const drop =
  (pick: (b: Obj) => Obj, ...keys: string[]): Mutation =>
  (body) => {
    const b = clone(body);
    for (const k of keys) delete pick(b)[k];
    return JSON.stringify(b);
  };

const forbiddenKey: fc.Arbitrary<Mutation> = fc
  .tuple(fc.constantFrom('__proto__', 'constructor', 'prototype'), fc.jsonValue({ maxDepth: 2 }), fc.nat())
  .map(([key, value, at]) => (body) => {
    const b = clone(body);
    const objs = objectsIn(b);
    const target = objs[at % objs.length] as Obj;
    target[HOLE] = value;
    return JSON.stringify(b).replace(`"${HOLE}"`, JSON.stringify(key));
  });

const deepNesting: fc.Arbitrary<Mutation> = fc
  .tuple(fc.integer({ min: 33, max: 5000 }), fc.nat(), fc.constantFrom('[', '{"a":'))
  .map(([depth, at, open]) => (body) => {
    const b = clone(body);
    const objs = objectsIn(b);
    (objs[at % objs.length] as Obj).deep = HOLE;
    const close = open === '[' ? ']' : '}';
    const inner = open === '[' ? '' : '0';
    return JSON.stringify(b).replace(`"${HOLE}"`, open.repeat(depth) + inner + close.repeat(depth));
  });

const truncated: fc.Arbitrary<Mutation> = fc
  .double({ min: 0, max: 1, noNaN: true, maxExcluded: true })
  .map((f) => (body) => {
    const text = JSON.stringify(body);
    return text.slice(0, Math.max(1, Math.floor(f * text.length)));
  });

const hugeValue: fc.Arbitrary<Mutation> = fc
  .integer({ min: 1001, max: 3000 })
  .map((n) => (body) => JSON.stringify({ ...body, value: Array(n).fill(item0(body)) }));

const hugeResourceData: fc.Arbitrary<Mutation> = fc.integer({ min: 101, max: 2000 }).map((n) => (body) => {
  const b = clone(body);
  item0(b).resourceData = Array(n).fill(resource0(b));
  return JSON.stringify(b);
});

/** Mutations that apply to any template. */
const common: fc.Arbitrary<Mutation> = fc.oneof(
  badChangeType.map((v) => set(item0, 'changeType', v)),
  fc.oneof(notAnObject, fc.constant(null), fc.constant([]), fc.constant({})).map(
    (v): Mutation =>
      (b) =>
        JSON.stringify({ ...b, value: v }),
  ),
  fc.constant(drop(item0, 'resourceUrl', 'resource')),
  fc.oneof(notAString, tooLong(2049)).map((v) => set(item0, 'resourceUrl', v)),
  fc.oneof(notAnObject, fc.constant(null)).map((v) => set(item0, 'resourceData', v)),
  fc.constant(drop(resource0, '@odata.type')),
  fc.oneof(notAString, tooLong(257)).map((v) => set(resource0, '@odata.type', v)),
  // Strings where objects belong, and the whole body one level off.
  fc.constant<Mutation>((b) => JSON.stringify({ ...b, value: [JSON.stringify(item0(b))] })),
  fc.constant<Mutation>((b) => JSON.stringify(JSON.stringify(b))),
  fc.constant<Mutation>((b) => JSON.stringify(b.value)),
  forbiddenKey,
  deepNesting,
  truncated,
  hugeValue,
  hugeResourceData,
);

/** Mutations of a call resource (the "call ended" template). */
const ofCall: fc.Arbitrary<Mutation> = fc.oneof(
  notAString.filter((v) => v !== null).map((v) => set(resource0, 'state', v)),
  fc.oneof(notAnObject).map((v) => set(resource0, 'resultInfo', v)),
  fc
    .string({ maxLength: 6 })
    .filter((s) => !/^-?\d+$/.test(s))
    .map((code) => set(resource0, 'resultInfo', { code, subcode: 5001 })),
  fc
    .oneof(
      fc.constant(''),
      tooLong(257),
      notAString.filter((v) => v !== null),
    )
    .map((v) => set(resource0, 'id', v)),
);

/** Mutations of a recordOperation (the completion template). */
const ofRecord: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant(drop(resource0, 'status')),
  notAString.map((v) => set(resource0, 'status', v)),
  fc.oneof(fc.constant(''), tooLong(257), notAString).map((v) => set(resource0, 'id', v)),
  fc
    .oneof(
      fc.integer(),
      fc.boolean(),
      fc.array(fc.string({ maxLength: 5 }), { minLength: 1 }),
      fc.constant({}),
    )
    .chain((v) =>
      fc.constantFrom(
        set(resource0, 'recordingLocation', v),
        set(resource0, 'recordingAccessToken', v),
        set(resource0, 'clientContext', v),
      ),
    ),
  // Another letter case is read as a recordOperation, and held to its rules like the exact spelling.
  fc
    .tuple(
      fc.constantFrom('#microsoft.graph.RecordOperation', '#MICROSOFT.GRAPH.RECORDOPERATION'),
      notAString,
    )
    .map(([t, status]) => (b: Obj) => {
      const c = clone(b);
      Object.assign(resource0(c), { '@odata.type': t, status });
      return JSON.stringify(c);
    }),
  // 13.6: a numeric string that would convert to Infinity.
  fc
    .integer({ min: 17, max: 400 })
    .map((n) => set(resource0, 'resultInfo', { code: '9'.repeat(n), subcode: 8515 })),
);

/**
 * An invalid body built from one of `templates` (each of one notification: a
 * call-ended one in `calls`, a completion in `records`). Some mutations break
 * the body (400/413); the others break its one item, which is skipped (202).
 */
export function invalidBody(templates: { calls: Obj[]; records: Obj[] }): fc.Arbitrary<string> {
  const callBodies = fc.constantFrom(...templates.calls);
  const recordBodies = fc.constantFrom(...templates.records);
  return fc.oneof(
    { weight: 2, arbitrary: fc.tuple(fc.oneof(callBodies, recordBodies), common).map(([b, m]) => m(b)) },
    { weight: 1, arbitrary: fc.tuple(callBodies, ofCall).map(([b, m]) => m(b)) },
    { weight: 1, arbitrary: fc.tuple(recordBodies, ofRecord).map(([b, m]) => m(b)) },
  );
}

/** Any string and any JSON value: never a commsNotifications body by chance. */
export const junkBody: fc.Arbitrary<string> = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.jsonValue({ maxDepth: 6 }).map((v) => JSON.stringify(v) ?? 'null'),
  fc.anything({ maxDepth: 4 }).map((v) => {
    try {
      return JSON.stringify(v) ?? 'undefined';
    } catch {
      return String(v);
    }
  }),
);

// ---------- valid bodies that must change nothing ----------

export interface Harmless {
  /** The tracked call's id, its record's operation id and clientContext. */
  callId: string;
  operationId: string;
  clientContext: string;
  /** Where a bait completion points its recordingLocation. */
  baitLocation: string;
}

const notTerminal = fc.constantFrom('notStarted', 'running', 'NotStarted', 'Running', 'RUNNING');
const aliveStates = fc.constantFrom('established', 'Established', 'hold', 'transferring', 'ringing');

/**
 * Bodies Graph could send that leave the tracked call and its record as they are:
 * about unknown calls (any id spelling), completions of operations the call never
 * started, progress of the real operation, unknown resource types, sub-resources.
 */
export function harmlessBody(t: Harmless): fc.Arbitrary<string> {
  const unknownCall = fc
    .uuid()
    .filter((u) => u.replace(/-/g, '') !== t.callId.replace(/-/g, '').toLowerCase())
    .chain(oddCasing)
    .chain((id) =>
      fc.constantFrom(
        callEnded(id),
        { ...callEnded(id), resourceUrl: undefined, resource: `/app/calls/${id}` },
        recordCompleted({
          callId: id,
          operationId: t.operationId,
          clientContext: t.clientContext,
          recordingLocation: t.baitLocation,
          recordingAccessToken: 'bait-token-for-an-unknown-call',
        }),
      ),
    );
  const trackedId = oddCasing(t.callId);
  const unknownOperation = fc
    .tuple(trackedId, fc.uuid(), fc.uuid(), fc.constantFrom('completed', 'Completed', 'failed', 'FAILED'))
    .filter(([, op, ctx]) => op !== t.operationId && ctx !== t.clientContext)
    .map(([callId, operationId, clientContext, status]) =>
      recordCompleted({
        callId,
        operationId,
        clientContext,
        status,
        recordingLocation: t.baitLocation,
        recordingAccessToken: 'bait-token-for-an-unknown-operation',
      }),
    );
  const progress = fc.tuple(trackedId, oddCasing(t.operationId), notTerminal).map(([callId, op, status]) =>
    recordCompleted({
      callId,
      operationId: op,
      clientContext: t.clientContext,
      status,
      recordingLocation: '',
      recordingAccessToken: '',
    }),
  );
  const callAlive = fc
    .tuple(trackedId, fc.constantFrom('created', 'updated', 'Updated'), aliveStates)
    .map(([callId, changeType, state]) => {
      const n = callEnded(callId, changeType);
      (n.resourceData as Obj).state = state;
      return n;
    });
  const unknownType = fc
    .tuple(
      trackedId,
      fc.constantFrom('created', 'updated', 'deleted'),
      fc
        .string({ minLength: 1, maxLength: 40 })
        .filter((s) => !/operation$/i.test(s) && s.toLowerCase() !== '#microsoft.graph.call'),
    )
    .map(([callId, changeType, type]) => ({
      '@odata.type': NOTIFICATION_TYPE,
      changeType,
      resourceUrl: `/communications/calls/${callId}`,
      resourceData: [{ '@odata.type': type, id: callId, state: 'terminated' }],
    }));
  const subResource = fc
    .tuple(trackedId, fc.constantFrom('participants', 'audioRoutingGroups', 'contentSharingSessions'))
    .map(([callId, sub]) => ({
      ...callEnded(callId),
      resourceUrl: `/communications/calls/${callId}/${sub}`,
    }));
  const noCall = fc
    .constantFrom('/subscriptions/1', '/communications/onlineMeetings/x', '', 'calls')
    .map((url) => ({ ...callEnded(t.callId), resourceUrl: url }));
  const one = fc.oneof(unknownCall, unknownOperation, progress, callAlive, unknownType, subResource, noCall);
  return fc.array(one, { minLength: 1, maxLength: 5 }).map((items) => JSON.stringify(envelope(...items)));
}
