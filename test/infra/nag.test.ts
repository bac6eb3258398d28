import { rmSync } from 'node:fs';
import { CfnResource, type Stack, Validations } from 'aws-cdk-lib';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/build';
import { CONTEXT_KEYS } from '../../infra/config';
import { type Synth, synth } from './support';

/** cdk-nag's AwsSolutions pack: zero unacknowledged findings, every acknowledgement reasoned and local. */

const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };

interface Ack {
  id: string;
  reason: string;
  path: string;
  /** Whether the acknowledging construct is a resource (or an L2 around one), not a group or the stack. */
  onResource: boolean;
}

function acknowledgements(root: IConstruct): Ack[] {
  const out: Ack[] = [];
  for (const c of root.node.findAll()) {
    for (const entry of c.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) {
        // Stored as `Annotation::<rule id>`.
        const onResource = c instanceof CfnResource || c.node.defaultChild instanceof CfnResource;
        out.push({ id: id.replace(/^Annotation::/, ''), reason, path: c.node.path, onResource });
      }
    }
  }
  return out;
}

let s: Synth;
beforeAll(() => {
  s = synth();
});

describe('cdk-nag AwsSolutions', () => {
  it('finds nothing unacknowledged in the default stack', () => {
    const report = new AwsSolutionsChecks().validateScope(s.stack);
    expect(
      report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.map((r) => r.resourceLogicalId)}`),
    ).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('finds nothing unacknowledged with every optional setting used', () => {
    const custom = synth({
      [CONTEXT_KEYS.qualtricsSecretArn]:
        'arn:aws:secretsmanager:us-east-1:123456789012:secret:qualtrics-AbC123',
      [CONTEXT_KEYS.alarmEmail]: 'privacy-ops@example.org',
      [CONTEXT_KEYS.qualtricsConcurrency]: 5,
      [CONTEXT_KEYS.datacenter]: 'iad1',
    });
    const report = new AwsSolutionsChecks().validateScope(custom.stack);
    expect(report.violations).toEqual([]);
  });

  it('acknowledges only these rules, each with a reason, on the resource it concerns', () => {
    const acks = acknowledgements(s.stack);
    const families = [...new Set(acks.map((a) => a.id.replace(/\[.*$/, '')))].sort();
    expect(families).toEqual([
      'AwsSolutions-APIG3',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4',
      'AwsSolutions-IAM5',
      'AwsSolutions-S1',
      'AwsSolutions-SMG4',
    ]);
    for (const a of acks) {
      expect(a.reason.length, a.id).toBeGreaterThan(40);
      // Never the whole stack or a whole construct group: next to the resource.
      expect(a.onResource, `${a.id} at ${a.path}`).toBe(true);
    }
  });

  it('acknowledges IAM4/IAM5 per finding, never the whole rule', () => {
    const iam = acknowledgements(s.stack).filter((a) => /^AwsSolutions-IAM[45]/.test(a.id));
    expect(iam.length).toBeGreaterThan(0);
    for (const a of iam) expect(a.id).toMatch(/^AwsSolutions-IAM[45]\[(Resource|Policy|Action)::.+\]$/);
    // The `*` resources acknowledged are the roles' X-Ray / log-delivery statements only.
    const starAt = iam.filter((a) => a.id === 'AwsSolutions-IAM5[Resource::*]').map((a) => a.path);
    for (const path of starAt)
      expect(path).toMatch(/\/(Handlers\/\w+FunctionRole|Workflows\/\w+StateMachine\/Role)$/);
  });
});

describe('the CLI app (npm run synth)', () => {
  it('runs the pack as a synth-time validation plugin: a finding fails the synth', () => {
    const { app, stack } = buildApp({ nag: true, context: NO_BUNDLING });
    // An unencrypted, unlogged bucket with no TLS policy: several AwsSolutions findings.
    new Bucket(stack as Stack, 'UnreviewedBucket');
    expect(() => app.synth()).toThrow(/AwsSolutions-S1/);
  });

  it('synthesizes the stack cleanly with the pack enabled', () => {
    const { app } = buildApp({ nag: true, context: NO_BUNDLING });
    const assembly = app.synth();
    try {
      expect(assembly.getStackByName('QualtricsDsr').template.Resources).toBeDefined();
    } finally {
      rmSync(assembly.directory, { recursive: true, force: true });
    }
  });
});
