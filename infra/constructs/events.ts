import { Duration, Stack } from 'aws-cdk-lib';
import { EventBus, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { type DsrEventType, EVENT_SOURCE } from '../../lambdas/core/events';

/**
 * detail-type that starts a request (README "Events"); the connector emits Completed/Failed with
 * `source` EVENT_SOURCE.
 */
export const SUBMITTED_DETAIL_TYPE = 'Privacy Request Submitted';
export const EMITTED_DETAIL_TYPES = [
  'Privacy Request Completed',
  'Privacy Request Failed',
  'Privacy Request Due Soon',
  'Privacy Request Overdue',
] as const satisfies readonly DsrEventType[];
export { EVENT_SOURCE };

/**
 * The connector's EventBridge side: its own bus (other systems put `Privacy Request Submitted` on it,
 * the connector puts `Completed`/`Failed` on it), and a dead-letter queue that keeps any submission
 * that could not be turned into a request — nothing is dropped silently.
 */
export class ConnectorEvents extends Construct {
  readonly bus: EventBus;
  readonly intakeDeadLetterQueue: Queue;
  intakeRule?: Rule;
  connectionCheckSchedule?: Rule;
  sweepSchedule?: Rule;
  executionEndedRule?: Rule;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.bus = new EventBus(this, 'Bus', { eventBusName: `${Stack.of(this).stackName}-events` });
    this.intakeDeadLetterQueue = new Queue(this, 'IntakeDeadLetterQueue', {
      // Submissions carry the subject's email: encrypted at rest, kept no longer than SQS allows.
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
  }

  /** `Privacy Request Submitted` on the bus → the intake function; undeliverable events → the DLQ. */
  routeSubmissions(intake: IFunction): Rule {
    this.intakeRule = new Rule(this, 'IntakeRule', {
      description: `qualtrics-dsr: "${SUBMITTED_DETAIL_TYPE}" starts a privacy request`,
      eventBus: this.bus,
      eventPattern: { detailType: [SUBMITTED_DETAIL_TYPE] },
      targets: [
        new LambdaFunction(intake, {
          deadLetterQueue: this.intakeDeadLetterQueue,
          retryAttempts: 8,
          maxEventAge: Duration.hours(24),
        }),
      ],
    });
    return this.intakeRule;
  }

  /**
   * Executions of our state machines that end FAILED, TIMED_OUT or ABORTED → the function that
   * closes the request, so none stays RUNNING when an execution dies outside its own Catch.
   * Step Functions status events arrive on the default bus.
   */
  routeExecutionEnds(target: IFunction, stateMachines: IStateMachine[]): Rule {
    this.executionEndedRule = new Rule(this, 'ExecutionEndedRule', {
      description:
        'qualtrics-dsr: a workflow execution that ended FAILED, TIMED_OUT or ABORTED closes its request',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: stateMachines.map((m) => m.stateMachineArn),
        },
      },
      targets: [new LambdaFunction(target, { retryAttempts: 8, maxEventAge: Duration.hours(24) })],
    });
    return this.executionEndedRule;
  }

  /** The scheduled connection check (on the default bus: schedules only run there). */
  scheduleConnectionCheck(check: IFunction, schedule: string): Rule {
    this.connectionCheckSchedule = new Rule(this, 'ConnectionCheckSchedule', {
      description: 'qualtrics-dsr: OAuth token, whoami and granted scopes, on a schedule',
      schedule: Schedule.expression(schedule),
      targets: [new LambdaFunction(check, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
    return this.connectionCheckSchedule;
  }

  /**
   * The sweep, hourly (README "The sweep"): stalled requests resumed, deadline warnings, and the
   * raw emails due erased — the stack's one schedule for all three.
   */
  scheduleSweep(target: IFunction): Rule {
    this.sweepSchedule = new Rule(this, 'SweepSchedule', {
      description:
        'qualtrics-dsr: resume stalled requests, warn of due and overdue ones, erase the emails due',
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(target, { retryAttempts: 2, maxEventAge: Duration.hours(1) })],
    });
    return this.sweepSchedule;
  }
}
