// What the demo takes and what it reports (run.ts runs it, timeline.ts prints it).

export interface DemoOptions {
  realtime?: boolean;
  inspect?: boolean;
  quiet?: boolean;
  json?: boolean;
  /** Serve the live view (graph-call-machines/view) and keep it up after the story until `viewUntil`. */
  view?: boolean;
  /** When the live view closes (default: Ctrl-C). */
  viewUntil?: Promise<unknown>;
  /** Where lines go (default stdout). */
  write?: (line: string) => void;
}

export interface DemoSummary {
  ok: boolean;
  calls: Array<{
    name: string;
    callId: string;
    reason: string;
    endedAfter: string;
    keepAlives: number;
    /** Graph's resultInfo of the end, when it sent one (`408/10057 ...`). */
    why?: string;
  }>;
  keepAlivesSent: number;
  recordingsDownloaded: number;
  recordingsDeleted: number;
  filesLeft: number;
  simulatedMs: number;
  wallMs: number;
  /** How the voicemail greeting prompt ended (`completed`). */
  greeting?: string;
  message?: { durationSeconds: number; loudnessDbfs: number; bytes: number };
}
