import { EventEmitter } from 'node:events';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { DsrError, ErrorNames } from './errors';

/**
 * Events the connector emits when a request ends, and the sweep's deadline warnings. They carry
 * ids, counts, the type and status, an error code, due dates and at most a masked email: never
 * the email, names or contact data.
 *
 * In AWS they go to the connector's EventBridge bus (`QDSR_EVENT_BUS`); elsewhere to an in-process
 * emitter the local engine and tests observe (`localEvents`).
 */

export const EVENT_SOURCE = 'qualtrics-dsr';
export const EVENT_BUS_ENV = 'QDSR_EVENT_BUS';

/** A request ended. */
export type RequestEndedEventType = 'Privacy Request Completed' | 'Privacy Request Failed';
/** The sweep's deadline warnings (README "The sweep"), each once per request and due date. */
export type DeadlineEventType = 'Privacy Request Due Soon' | 'Privacy Request Overdue';
export type DsrEventType = RequestEndedEventType | DeadlineEventType;

export interface DsrEventDetail {
  requestId: string;
  type: 'access' | 'deletion';
  status: 'COMPLETED' | 'FAILED';
  maskedEmail?: string;
  dryRun?: boolean;
  counts?: Record<string, number>;
  qualtrics?: {
    customerDataRequestId?: string;
    fileIds?: string[];
    erasureRequestId?: string;
    status?: string;
  };
  /** Failed requests: the error code only (the message stays in the request record). */
  errorCode?: string;
}

/** A deadline warning: ids, the type, the law and the due dates, and the masked email — nothing else. */
export interface DeadlineEventDetail {
  requestId: string;
  type: 'access' | 'deletion';
  jurisdiction: string;
  receivedAt: string;
  dueAt: string;
  extendedDueAt: string | null;
  /** extendedDueAt ?? dueAt: the date the warning is about. */
  effectiveDueAt: string;
  maskedEmail: string;
}

export type DsrEvent =
  | { detailType: RequestEndedEventType; detail: DsrEventDetail }
  | { detailType: DeadlineEventType; detail: DeadlineEventDetail };

export interface EventPublisher {
  publish(event: DsrEvent): Promise<void>;
}

/** Puts events on an EventBridge bus; a rejected entry is an error (the step is retried). */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
    private readonly source: string = EVENT_SOURCE,
  ) {}

  async publish(event: DsrEvent): Promise<void> {
    let failed: number;
    try {
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: [
            {
              EventBusName: this.busName,
              Source: this.source,
              DetailType: event.detailType,
              Detail: JSON.stringify(event.detail),
            },
          ],
        }),
      );
      failed = out.FailedEntryCount ?? 0;
    } catch (e) {
      // SDK messages may quote the request; keep the error's name only.
      throw new DsrError(
        ErrorNames.Storage,
        `EventBridge PutEvents failed: ${(e as { name?: string }).name ?? 'Error'}`,
        true,
      );
    }
    if (failed > 0) {
      throw new DsrError(ErrorNames.Storage, 'EventBridge rejected the event', true);
    }
  }
}

/** In-process publisher: listeners see each event synchronously, in order. */
export class InProcessPublisher implements EventPublisher {
  private readonly emitter = new EventEmitter();

  async publish(event: DsrEvent): Promise<void> {
    // A JSON copy: listeners get exactly what EventBridge would carry, and cannot mutate ours.
    this.emitter.emit('event', JSON.parse(JSON.stringify(event)) as DsrEvent);
  }

  /** Returns a function that removes the listener. */
  subscribe(listener: (event: DsrEvent) => void): () => void {
    this.emitter.on('event', listener);
    return () => this.emitter.off('event', listener);
  }
}

/** The process-wide in-process publisher (what handlers use when no bus is configured). */
export const localEvents = new InProcessPublisher();

let eventBridge: EventBridgeClient | undefined;

export function eventPublisherFromEnv(env: NodeJS.ProcessEnv = process.env): EventPublisher {
  const bus = env[EVENT_BUS_ENV]?.trim();
  if (!bus) return localEvents;
  eventBridge ??= new EventBridgeClient({});
  return new EventBridgePublisher(eventBridge, bus);
}
