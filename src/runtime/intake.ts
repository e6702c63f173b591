/**
 * Notification intake: the webhook handler (verify, parse) wired to the
 * router, the forwarding of other instances' notifications to the cluster,
 * and the counters and log lines of what was refused or not routed.
 */
import { normalizeId } from '../graph/ids.js';
import {
  createNotificationHandler,
  type NotificationError,
  type NotificationHandler,
  type NotificationItemError,
  type ParsedNotification,
} from '../notifications/index.js';
import { buildNotificationVerifier } from '../notifications/verify.js';
import { trackWork } from '../ports/clock.js';
import type { RuntimeContext } from './context.js';
import { type RouteResult, rejectedItemReport, routeNotifications } from './router.js';

export interface IntakeCounters {
  unknownCall: number;
  unmatchedOperation: number;
  /** Refused POSTs plus skipped items (`rejectedItems`: the latter alone). */
  rejectedNotifications: number;
  rejectedItems: number;
  routed: number;
}

export interface Intake {
  readonly handler: NotificationHandler;
  readonly counters: IntakeCounters;
  /** Route notifications of calls running here (from another instance); returns the others. */
  deliver(items: ParsedNotification[]): ParsedNotification[];
}

/** `offers` sees every batch first: a new offer gets its call actor before the batch is routed. */
export function createIntake(ctx: RuntimeContext, offers?: (items: ParsedNotification[]) => void): Intake {
  const { calls, clock, log, options, streams } = ctx;
  const counters: IntakeCounters = {
    unknownCall: 0,
    unmatchedOperation: 0,
    rejectedNotifications: 0,
    rejectedItems: 0,
    routed: 0,
  };
  const runsHere = (i: ParsedNotification) => !i.ref?.callId || calls.has(normalizeId(i.ref.callId));

  function route(items: ParsedNotification[]) {
    const result: RouteResult = routeNotifications(items, (id) => calls.get(id), ctx.vault, clock.now());
    counters.routed += result.routed;
    counters.unknownCall += result.unknownCall;
    counters.unmatchedOperation += result.unmatchedOperation;
    if (result.unknownCall)
      log({ level: 'info', msg: 'notification for an untracked call ignored', count: result.unknownCall });
  }

  function onNotifications(items: ParsedNotification[]) {
    if (ctx.stopped) return;
    offers?.(items);
    const cluster = options.cluster;
    // With a cluster, notifications of calls another instance runs go to that instance.
    const elsewhere = cluster ? items.filter((i) => !runsHere(i)) : [];
    route(elsewhere.length ? items.filter(runsHere) : items);
    if (cluster && elsewhere.length)
      trackWork(clock, cluster.forward(elsewhere)).catch((err) =>
        log({ level: 'error', msg: 'notification forwarding failed', error: (err as Error)?.message }),
      );
    for (const item of items) streams.publish(item);
  }

  function deliver(items: ParsedNotification[]): ParsedNotification[] {
    if (ctx.stopped) return items;
    const here = items.filter(runsHere);
    const others = items.filter((i) => !runsHere(i));
    if (here.length) route(here);
    for (const item of here) streams.publish(item);
    return others;
  }

  const verifier =
    options.notificationAuth === false
      ? false
      : // Keys come through the runtime's own adapter and clock, like every other request.
        buildNotificationVerifier(
          { ...options.notificationAuth, clock, http: ctx.http },
          { clock, http: () => ctx.http },
        );
  const handler = createNotificationHandler({
    verifier,
    limitBytes: options.notificationLimitBytes,
    onNotifications,
    onError: (err: NotificationError) => {
      counters.rejectedNotifications++;
      log({
        level: 'warn',
        msg: 'notification rejected',
        status: err.status,
        code: err.code,
        error: err.message,
        next: `answered ${err.status}; no call was touched`,
      });
    },
    onRejectedItem: (err: NotificationItemError) => {
      counters.rejectedNotifications++;
      counters.rejectedItems++;
      const report = rejectedItemReport(err, clock.now());
      log(report.log);
      streams.events.next(report.event);
    },
    // Graph already has its 202; a failure here is ours to report, never to hide.
    onConsumerError: (err: unknown) =>
      log({ level: 'error', msg: 'notification handling failed', error: (err as Error)?.message }),
  });
  return { handler, counters, deliver };
}
