/**
 * Inputs and outputs of the call machine's named actors, plain JSON. The
 * runtime implements them with the Graph client (src/runtime/actors.ts); a
 * rejection is an ErrorJson (GraphError.toJSON() plus `at`).
 */

/** Every actor's answer carries the clock time it arrived at. */
export interface Timed {
  at: number;
}

/** `{ uri, resourceId? }`: prompt media are WAV, mono, 16-bit, 16 kHz. */
export interface MediaInfoJson {
  uri: string;
  resourceId?: string;
}

/** A participant to ring or redirect to (Graph's invitationParticipantInfo, as JSON). */
export type ParticipantJson = Record<string, unknown>;

/** POST /calls/{id}/keepAlive -> 200. */
export interface KeepAliveInput {
  callId: string;
}

/** DELETE /calls/{id} -> 204. */
export interface HangUpInput {
  callId: string;
}

/** POST /calls/{id}/cancelMediaProcessing -> 200, already completed. */
export interface CancelMediaInput {
  callId: string;
  clientContext?: string;
}

/** POST /calls/{id}/answer -> 202 (service-hosted media, audio). */
export interface AnswerActorInput {
  callId: string;
  callbackUri?: string;
  preFetchMedia?: MediaInfoJson[];
}

export type CallRejectReason = 'none' | 'busy' | 'forbidden';

/** POST /calls/{id}/reject -> 202; only before the call is answered. */
export interface RejectActorInput {
  callId: string;
  reason: CallRejectReason;
  callbackUri?: string;
}

/** POST /calls/{id}/redirect -> 202; 1..25 targets, timeout 15..90 s. */
export interface RedirectActorInput {
  callId: string;
  targets: ParticipantJson[];
  timeoutInSeconds?: number;
  callbackUri?: string;
}

/** What the bot asks for when placing a call (POST /communications/calls). */
export interface PlaceCallRequest {
  targets: ParticipantJson[];
  /** PSTN: `{ identity: { applicationInstance: ... } }` and a top-level tenantId. */
  source?: ParticipantJson;
  tenantId?: string;
  callbackUri?: string;
  /** Prompts Graph fetches while the call is set up. */
  preFetchMedia?: MediaInfoJson[];
}

/** 201 + Location + the call in `establishing`. */
export interface PlaceCallOutput extends Timed {
  callId: string;
  state: string;
}

/** POST /calls/{id}/playPrompt -> 200 + playPromptOperation. `loop` (beta) plays until canceled. */
export interface PlayPromptActorInput {
  callId: string;
  clientContext: string;
  prompts: MediaInfoJson[];
  loop: boolean;
}

export interface PlayPromptOutput extends Timed {
  operationId: string;
  status: string;
}

/** POST /calls/{id}/subscribeToTone -> 200, already completed (tones then come on call updates). */
export interface SubscribeToToneActorInput {
  callId: string;
  clientContext: string;
}

export type PlaceCallActorInput = PlaceCallRequest;
