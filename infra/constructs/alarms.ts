import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, type ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { CONNECTION_CHECK_FAILED_METRIC, OVERDUE_REQUESTS_METRIC } from '../../lambdas/core/metric-names';
import { METRICS_NAMESPACE } from './functions';

export interface AlarmsProps {
  readonly stateMachines: { readonly access: IStateMachine; readonly deletion: IStateMachine };
  /** The connection-check function: its EMF metric and its own errors (a crash before it could report). */
  readonly connectionCheck: IFunction;
  /** Log groups of the functions that call Qualtrics: their 429s are counted by a metric filter. */
  readonly qualtricsLogGroups: readonly ILogGroup[];
  /** Submissions that could not be turned into a request. */
  readonly intakeDeadLetterQueue: IQueue;
  /** The sweep function: its `OverdueRequests` EMF metric. */
  readonly sweep: IFunction;
  /** Email address subscribed to the alarm topic; none → subscribe yourself (docs/deploy.md). */
  readonly email?: string;
}

/** Metric of every Qualtrics 429 a step saw (filled by metric filters on the step functions' logs). */
export const QUALTRICS_THROTTLED_METRIC = 'QualtricsThrottled';
/**
 * A step that ends on a Qualtrics 429 logs `{"message":"step failed","errorName":"Qualtrics.RateLimited"}`
 * (lambdas/middleware/logger.ts; the name is the Step Functions error the ASL retries on): one match
 * per throttled call that reached the workflow.
 */
export const QUALTRICS_THROTTLED_PATTERN = FilterPattern.stringValue(
  '$.errorName',
  '=',
  'Qualtrics.RateLimited',
);
export { CONNECTION_CHECK_FAILED_METRIC, OVERDUE_REQUESTS_METRIC };
/** 429s in five minutes before anyone is woken: a few are expected (and retried), a stream is not. */
export const QUALTRICS_THROTTLED_THRESHOLD = 5;
export const ALARM_PERIOD = Duration.minutes(5);

/**
 * What a privacy engineer must hear about, on an SNS topic encrypted with its own key: failed,
 * timed-out or aborted executions of either workflow, failed connection checks, Qualtrics 429s, and
 * submissions parked in the dead-letter queue.
 */
export class Alarms extends Construct {
  readonly topic: Topic;
  readonly topicKey: Key;
  readonly alarms: Record<string, Alarm> = {};

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    // A key of its own: CloudWatch must be able to use it, and it must not open the data key to it.
    this.topicKey = new Key(this, 'TopicKey', {
      description: 'qualtrics-dsr: alarm topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
      pendingWindow: Duration.days(7),
    });
    this.topicKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchAlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        // In a key policy, `*` means this key.
        resources: ['*'],
      }),
    );
    this.topic = new Topic(this, 'Topic', {
      displayName: 'qualtrics-dsr alarms',
      masterKey: this.topicKey,
      enforceSSL: true,
    });
    if (props.email) this.topic.addSubscription(new EmailSubscription(props.email));

    for (const [type, machine] of Object.entries(props.stateMachines)) {
      const label = type === 'access' ? 'Access' : 'Deletion';
      this.add(`${label}ExecutionsFailed`, {
        description: `qualtrics-dsr: the execution of ${type === 'access' ? 'an access' : 'a deletion'} request failed, timed out or was aborted (see its execution history)`,
        metric: new MathExpression({
          label: `${type} executions failed, timed out or aborted`,
          expression: 'FILL(failed, 0) + FILL(timedOut, 0) + FILL(aborted, 0)',
          usingMetrics: {
            failed: machine.metricFailed({ period: ALARM_PERIOD, statistic: 'Sum' }),
            timedOut: machine.metricTimedOut({ period: ALARM_PERIOD, statistic: 'Sum' }),
            aborted: machine.metricAborted({ period: ALARM_PERIOD, statistic: 'Sum' }),
          },
          period: ALARM_PERIOD,
        }),
        threshold: 1,
      });
    }

    this.add('ConnectionCheckFailed', {
      description:
        'qualtrics-dsr: the scheduled connection check failed (secret, token, whoami or missing scopes)',
      metric: new MathExpression({
        label: 'connection checks failed',
        expression: 'FILL(failed, 0) + FILL(errors, 0)',
        usingMetrics: {
          failed: new Metric({
            namespace: METRICS_NAMESPACE,
            metricName: CONNECTION_CHECK_FAILED_METRIC,
            statistic: 'Sum',
            period: ALARM_PERIOD,
          }),
          errors: props.connectionCheck.metricErrors({ statistic: 'Sum', period: ALARM_PERIOD }),
        },
        period: ALARM_PERIOD,
      }),
      threshold: 1,
    });

    props.qualtricsLogGroups.forEach((logGroup, i) => {
      new MetricFilter(this, `QualtricsThrottledFilter${i}`, {
        logGroup,
        filterPattern: QUALTRICS_THROTTLED_PATTERN,
        metricNamespace: METRICS_NAMESPACE,
        metricName: QUALTRICS_THROTTLED_METRIC,
        metricValue: '1',
        defaultValue: 0,
      });
    });
    this.add('QualtricsThrottled', {
      description: `qualtrics-dsr: Qualtrics answered 429 at least ${QUALTRICS_THROTTLED_THRESHOLD} times in 5 minutes (another integration may share the brand's limit: lower targetUtilization)`,
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: QUALTRICS_THROTTLED_METRIC,
        statistic: 'Sum',
        period: ALARM_PERIOD,
      }),
      threshold: QUALTRICS_THROTTLED_THRESHOLD,
    });

    this.add('OverdueRequests', {
      description:
        'qualtrics-dsr: a privacy request is past its due date and not COMPLETED (GET /requests?overdue=true lists them)',
      metric: new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: OVERDUE_REQUESTS_METRIC,
        // The sweep writes the count hourly: the highest count of the hour.
        statistic: 'Maximum',
        period: Duration.hours(1),
      }),
      threshold: 1,
    });

    this.add('IntakeDeadLetters', {
      description:
        'qualtrics-dsr: a "Privacy Request Submitted" event could not be handled; it waits in the dead-letter queue',
      metric: props.intakeDeadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: ALARM_PERIOD,
        statistic: 'Maximum',
      }),
      threshold: 1,
    });
  }

  private add(id: string, p: { description: string; metric: IMetric; threshold: number }): void {
    const alarm = new Alarm(this, `${id}Alarm`, {
      alarmDescription: p.description,
      metric: p.metric,
      threshold: p.threshold,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    this.alarms[id] = alarm;
  }
}
