/** One report of the library (never a token in it): the runtime, the cluster adapters and the user's sink share it. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  callId?: string;
  /** What happens next (a retry, the end of the call, a deleted clip). */
  next?: string;
  [key: string]: unknown;
}
