// The resultInfo values Graph sends when a call ends, and their notification shape.
import type { ResultInfoValue } from './caller-script.js';

export const RESULT = {
  keepAliveTimeout: { code: 408, subcode: 8537, message: 'Keep Alive timeout, cleaned up inactive call.' },
  endedByBot: { code: 200, subcode: 7000, message: 'The conversation has ended by bot.' },
  conversationEnded: { code: 200, subcode: 5001, message: 'The conversation has ended.' },
} as const satisfies Record<string, ResultInfoValue>;

export const resultInfoData = (r: ResultInfoValue) => ({
  '@odata.type': '#microsoft.graph.resultInfo',
  ...r,
});
