import { beforeAll, describe, expect, it } from 'vitest';
import { OVERDUE_REQUESTS_METRIC } from '../../infra/constructs/alarms';
import { HANDLERS } from '../../lambdas/catalog';
import { METRICS_NAMESPACE } from '../../lambdas/core/metric-names';
import { publishOverdueRequestsMetric } from '../../lambdas/handlers/sweep';
import { capturingStdout } from '../support/stdout';
import { list, resolve, resourcesOfType, type Synth, synth } from './support';

/**
 * The sweep in the template (README "The sweep", docs/deploy.md): its function with the grants and
 * settings it needs, the hourly schedule (the stack's only one besides the connection check), and
 * the `OverdueRequests` metric it writes with the alarm that reads that very metric.
 */

let s: Synth;
beforeAll(() => {
  s = synth();
});

describe('the sweep', () => {
  it('is a function of its own, given the state machines, the bus, the table and the due-soon default', () => {
    const fn = s.json.Resources[s.functionIds.sweep]?.Properties ?? {};
    expect(fn.Timeout).toBe(HANDLERS.sweep.timeoutSeconds);
    const env = (fn.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(Object.keys(env)).toEqual(
      expect.arrayContaining([
        'QDSR_REQUESTS_TABLE',
        'QDSR_EVENT_BUS',
        'QDSR_ACCESS_STATE_MACHINE_ARN',
        'QDSR_DELETION_STATE_MACHINE_ARN',
        'QDSR_FORGET_EMAIL_AFTER_DAYS',
      ]),
    );
    expect(env.QDSR_ACCESS_STATE_MACHINE_ARN).toEqual({ Ref: s.id(s.stack.workflows.access) });
  });

  it("may Query byStatus and byEmailForgetAt only, describe the two machines' executions, start them, put events", () => {
    const roleId = s.id(s.stack.handlers.roles.sweep);
    const policies = resourcesOfType(s.json, 'AWS::IAM::Policy').filter(([, p]) =>
      JSON.stringify(p.Roles).includes(roleId),
    );
    const statements = policies.flatMap(
      ([, p]) => (p.PolicyDocument as { Statement: Array<Record<string, unknown>> }).Statement,
    );
    const pairs = statements.flatMap((st) =>
      list(st.Action as string[]).flatMap((a) =>
        list(resolve(st.Resource) as string[]).map((r) => `${a} @ ${r}`),
      ),
    );
    const requests = `<${s.id(s.stack.storage.requestsTable)}.Arn>`;
    expect(pairs.filter((p) => p.startsWith('dynamodb:Query')).sort()).toEqual(
      [
        `dynamodb:Query @ ${requests}/index/byEmailForgetAt`,
        `dynamodb:Query @ ${requests}/index/byStatus`,
      ].sort(),
    );
    const executions = [s.stack.workflows.access, s.stack.workflows.deletion].map(
      (m) =>
        `states:DescribeExecution @ arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${s.id(m)}.Name>:*`,
    );
    expect(pairs.filter((p) => p.startsWith('states:DescribeExecution')).sort()).toEqual(executions.sort());
    expect(pairs.filter((p) => p.startsWith('states:StartExecution')).sort()).toEqual(
      [s.stack.workflows.access, s.stack.workflows.deletion]
        .map((m) => `states:StartExecution @ <${s.id(m)}>`)
        .sort(),
    );
    expect(pairs).toContain(`events:PutEvents @ <${s.id(s.stack.events.bus)}.Arn>`);
    expect(pairs.some((p) => p.startsWith('dynamodb:Scan'))).toBe(false);
  });

  it('runs hourly on an EventBridge schedule', () => {
    const rule = s.json.Resources[s.id(s.stack.events.sweepSchedule!)]?.Properties ?? {};
    expect(rule.ScheduleExpression).toBe('rate(1 hour)');
    expect(rule.State).toBe('ENABLED');
    const targets = rule.Targets as Array<{ Arn: unknown }>;
    expect(targets.map((t) => t.Arn)).toEqual([{ 'Fn::GetAtt': [s.functionIds.sweep, 'Arn'] }]);
  });

  it('alarms on the OverdueRequests metric the sweep writes (namespace, name, no dimensions), from 1 up', async () => {
    const { out } = await capturingStdout(() => publishOverdueRequestsMetric(2));
    const emf = JSON.parse(out.trimEnd().split('\n').at(-1)!);
    const [directive] = emf._aws.CloudWatchMetrics;
    expect(directive).toEqual({
      Namespace: METRICS_NAMESPACE,
      Dimensions: [[]],
      Metrics: [{ Name: OVERDUE_REQUESTS_METRIC, Unit: 'Count' }],
    });
    expect(emf[OVERDUE_REQUESTS_METRIC]).toBe(2);

    const alarms = resourcesOfType(s.json, 'AWS::CloudWatch::Alarm')
      .map(([, p]) => p)
      .filter((p) => p.MetricName === OVERDUE_REQUESTS_METRIC);
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({
      Namespace: METRICS_NAMESPACE,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: [{ Ref: s.id(s.stack.alarms.topic) }],
    });
    expect(alarms[0]?.Dimensions).toBeUndefined();
  });
});
