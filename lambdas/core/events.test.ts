import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorNames } from './errors';
import {
  type DsrEvent,
  EVENT_SOURCE,
  EventBridgePublisher,
  eventPublisherFromEnv,
  InProcessPublisher,
  localEvents,
} from './events';

const event: DsrEvent = {
  detailType: 'Privacy Request Completed',
  detail: {
    requestId: 'r-1',
    type: 'access',
    status: 'COMPLETED',
    maskedEmail: 'j***@example.com',
    counts: { files: 2 },
  },
};

describe('InProcessPublisher', () => {
  it('hands each listener a copy, in order, until it unsubscribes', async () => {
    const publisher = new InProcessPublisher();
    const seen: DsrEvent[] = [];
    const stop = publisher.subscribe((e) => seen.push(e));
    await publisher.publish(event);
    stop();
    await publisher.publish(event);
    expect(seen).toEqual([event]);
    expect(seen[0]).not.toBe(event);
  });
});

describe('EventBridgePublisher', () => {
  const eventBridge = mockClient(EventBridgeClient);
  afterEach(() => eventBridge.reset());

  it('puts the event on the bus with the connector as source', async () => {
    eventBridge.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'e1' }] });
    await new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'dsr-bus').publish(event);
    const sent = eventBridge.commandCalls(PutEventsCommand)[0]?.args[0].input;
    expect(sent?.Entries).toEqual([
      {
        EventBusName: 'dsr-bus',
        Source: EVENT_SOURCE,
        DetailType: 'Privacy Request Completed',
        Detail: JSON.stringify(event.detail),
      },
    ]);
  });

  it('fails retryably when EventBridge rejects the entry or the call, without quoting the SDK message', async () => {
    const publisher = new EventBridgePublisher(new EventBridgeClient({ region: 'us-east-1' }), 'dsr-bus');
    eventBridge
      .on(PutEventsCommand)
      .resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] });
    await expect(publisher.publish(event)).rejects.toMatchObject({
      name: ErrorNames.Storage,
      retryable: true,
    });

    eventBridge.reset();
    eventBridge
      .on(PutEventsCommand)
      .rejects(
        Object.assign(new Error('denied for detail {"requestId":"r-1"}'), { name: 'AccessDeniedException' }),
      );
    const failure = publisher.publish(event);
    await expect(failure).rejects.toMatchObject({ name: ErrorNames.Storage });
    await failure.catch((e: Error) =>
      expect(e.message).toBe('EventBridge PutEvents failed: AccessDeniedException'),
    );
  });
});

describe('eventPublisherFromEnv', () => {
  it('uses EventBridge when QDSR_EVENT_BUS is set, the in-process publisher otherwise', () => {
    expect(eventPublisherFromEnv({})).toBe(localEvents);
    expect(eventPublisherFromEnv({ QDSR_EVENT_BUS: '  ' })).toBe(localEvents);
    expect(eventPublisherFromEnv({ QDSR_EVENT_BUS: 'bus', AWS_REGION: 'us-east-1' })).toBeInstanceOf(
      EventBridgePublisher,
    );
  });
});
