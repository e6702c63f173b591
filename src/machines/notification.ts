/**
 * The one event the runtime sends a call for every Graph notification about
 * it: the parsed, normalised resource as plain JSON. Never a token: the
 * runtime keeps the recordingAccessToken in its vault and says only whether a
 * clip can be fetched (`hasRecording`).
 */
import type { ResultInfoJson } from './types.js';

/** A DTMF key press (call `updated` with toneInfo); `sequenceId` orders them. */
export interface ToneJson {
  sequenceId: number;
  /** tone0..tone9, star, pound, a, b, c, d, flash */
  tone: string;
}

/** The call itself (`/communications/calls/{id}`). */
export interface CallNotice {
  kind: 'call';
  /** incoming, establishing, ringing, established, hold, ..., terminating, terminated; null when absent. */
  state: string | null;
  resultInfo: ResultInfoJson | null;
  toneInfo: ToneJson | null;
}

/** An operation (`/communications/calls/{id}/operations/{opId}`): record, playPrompt, or another. */
export interface OperationNotice {
  kind: 'operation';
  odataType: 'recordOperation' | 'playPromptOperation' | 'operation';
  operationId: string;
  clientContext: string | null;
  status: string;
  completionReason: string | null;
  resultInfo: ResultInfoJson | null;
  recordingLocation: string | null;
  /** The runtime holds a token for this recording and a location came with it. */
  hasRecording: boolean;
}

export interface NotificationEvent {
  type: 'NOTIFICATION';
  at: number;
  changeType: 'created' | 'updated' | 'deleted';
  resource: CallNotice | OperationNotice;
}

/** Graph says the call is over: `deleted` on the call, or its state `terminated`. */
export function endsCall(ev: NotificationEvent): boolean {
  return ev.resource.kind === 'call' && (ev.changeType === 'deleted' || ev.resource.state === 'terminated');
}

/** The call's state in a notification that does not end it, or null. */
export function callState(ev: NotificationEvent): string | null {
  return ev.resource.kind === 'call' && !endsCall(ev) ? ev.resource.state : null;
}

/** completed/failed (any case): an operation's end. */
export function isTerminalStatus(status: string | null | undefined): boolean {
  const s = (status ?? '').toLowerCase();
  return s === 'completed' || s === 'failed';
}
