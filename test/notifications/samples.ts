/** Notification bodies shaped like Graph's (docs examples and field variants). */

export const CALL_ID = '421f1100-f5a1-4d5b-b5a8-1b3b3b3b3b3b';
export const OP_ID = '0fe0623f-d628-42ed-b4bd-8ac290072cc5';

export const recordCompleted = {
  '@odata.type': '#microsoft.graph.commsNotification',
  changeType: 'deleted',
  resourceUrl: `/communications/calls/${CALL_ID}/operations/${OP_ID}`,
  resourceData: {
    '@odata.type': '#microsoft.graph.recordOperation',
    id: OP_ID,
    status: 'completed',
    clientContext: 'd45324c1-fcb5-430a-902c-f20af696537c',
    recordingLocation: 'https://recordings.example/clip/1',
    recordingAccessToken: 'opaque-recording-token',
    completionReason: 'stopToneDetected',
    resultInfo: { code: 200, subcode: 8515 },
  },
};

export const callTerminated = {
  '@odata.type': '#microsoft.graph.commsNotification',
  changeType: 'deleted',
  // Upper-case, dash-less id as the docs show in resourceUrl.
  resourceUrl: `/communications/calls/${CALL_ID.replace(/-/g, '').toUpperCase()}`,
  resourceData: [
    {
      '@odata.type': '#microsoft.graph.call',
      state: 'terminated',
      resultInfo: { code: '408', subcode: '8537' },
    },
  ],
};

export const legacyResource = {
  changeType: 'Updated',
  resource: `/app/calls/${CALL_ID}`,
  resourceData: { '@odata.type': '#microsoft.graph.call', state: 'Established' },
};

export const batch = (...value: unknown[]) => ({
  '@odata.type': '#microsoft.graph.commsNotifications',
  value,
});

/** A valid body with `depth` nested arrays inside an unknown field. */
export function nested(depth: number): string {
  return `{"value":[{"changeType":"updated","resourceUrl":"/communications/calls/${CALL_ID}","x":${'['.repeat(depth)}${']'.repeat(depth)}}]}`;
}
