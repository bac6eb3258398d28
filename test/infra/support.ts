import { type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { buildApp } from '../../infra/build';
import type { QualtricsDsrStack } from '../../infra/stack';
import { HANDLER_NAMES, type HandlerName } from '../../lambdas/catalog';

/**
 * Synthesis for the infra tests: the real app (cdk.json's feature flags included) with bundling
 * skipped, built once per test file. Plus a resolver that turns CloudFormation intrinsics into
 * readable strings (`<LogicalId.Arn>`) or fake ARNs, so policies and definitions can be compared.
 */

export const FAKE_ACCOUNT = '123456789012';
export const FAKE_REGION = 'us-east-1';

export interface Synth {
  stack: QualtricsDsrStack;
  template: Template;
  json: CfnTemplate;
  /** Logical id of a construct's resource. */
  id(c: IConstruct): string;
  /** Logical id of each handler's function. */
  functionIds: Record<HandlerName, string>;
}

export interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; [k: string]: unknown }>;
  Outputs?: Record<string, { Value: unknown }>;
}

export function synth(context: Record<string, unknown> = {}): Synth {
  const { stack } = buildApp({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const template = Template.fromStack(stack);
  const id = (c: IConstruct) => Stack.of(c).getLogicalId(c.node.defaultChild as CfnElement);
  const functionIds = {} as Record<HandlerName, string>;
  for (const name of HANDLER_NAMES) functionIds[name] = id(stack.handlers.functions[name]);
  return { stack, template, json: template.toJSON() as CfnTemplate, id, functionIds };
}

export function resourcesOfType(json: CfnTemplate, type: string): Array<[string, Record<string, unknown>]> {
  return Object.entries(json.Resources)
    .filter(([, r]) => r.Type === type)
    .map(([id, r]) => [id, r.Properties ?? {}]);
}

export type RefResolver = (logicalId: string, attribute?: string) => string;

/** `<Id>` for a Ref, `<Id.Attr>` for a GetAtt, `<AWS::Region>` for pseudo parameters. */
export const symbolic: RefResolver = (id, attr) => (attr ? `<${id}.${attr}>` : `<${id}>`);

/** Fake but well-formed values: a function's Arn becomes `arn:aws:lambda:…:function:<LogicalId>`. */
export function fakeArns(json: CfnTemplate): RefResolver {
  return (id, attr) => {
    if (id === 'AWS::Partition') return 'aws';
    if (id === 'AWS::Region') return FAKE_REGION;
    if (id === 'AWS::AccountId') return FAKE_ACCOUNT;
    if (id === 'AWS::URLSuffix') return 'amazonaws.com';
    const type = json.Resources[id]?.Type;
    if (type === 'AWS::Lambda::Function' && attr === 'Arn') {
      return `arn:aws:lambda:${FAKE_REGION}:${FAKE_ACCOUNT}:function:${id}`;
    }
    return symbolic(id, attr);
  };
}

/** Resolves Ref, Fn::GetAtt, Fn::Join and Fn::Sub (no nested Sub variables) throughout `value`. */
export function resolve(value: unknown, ref: RefResolver = symbolic): unknown {
  if (Array.isArray(value)) return value.map((v) => resolve(v, ref));
  if (value === null || typeof value !== 'object') return value;
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1) {
    const [k] = keys as [string];
    const v = o[k];
    if (k === 'Ref') return ref(String(v));
    if (k === 'Fn::GetAtt') {
      const [id, attr] = Array.isArray(v) ? (v as string[]) : String(v).split('.');
      return ref(String(id), String(attr));
    }
    if (k === 'Fn::Join') {
      const [sep, parts] = v as [string, unknown[]];
      return (resolve(parts, ref) as unknown[]).map(String).join(sep);
    }
    if (k === 'Fn::Sub') {
      const [text, vars] = (Array.isArray(v) ? v : [v, {}]) as [string, Record<string, unknown>];
      return text.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
        if (name in vars) return String(resolve(vars[name], ref));
        const [id, attr] = name.split('.');
        return ref(String(id), attr);
      });
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) out[k] = resolve(v, ref);
  return out;
}

export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  Principal?: unknown;
  Condition?: Record<string, Record<string, unknown>>;
}

export interface FoundStatement {
  /** Where it lives: `AWS::IAM::Policy:<id>`, `AWS::KMS::Key:<id>`, … */
  owner: string;
  ownerType: string;
  ownerId: string;
  statement: Statement;
}

const POLICY_DOCUMENTS: Record<string, (p: Record<string, unknown>) => unknown[]> = {
  'AWS::IAM::Policy': (p) => [p.PolicyDocument],
  'AWS::IAM::ManagedPolicy': (p) => [p.PolicyDocument],
  'AWS::IAM::Role': (p) =>
    ((p.Policies as Array<{ PolicyDocument: unknown }>) ?? []).map((x) => x.PolicyDocument),
  'AWS::KMS::Key': (p) => [p.KeyPolicy],
  'AWS::S3::BucketPolicy': (p) => [p.PolicyDocument],
  'AWS::SQS::QueuePolicy': (p) => [p.PolicyDocument],
  'AWS::SNS::TopicPolicy': (p) => [p.PolicyDocument],
  'AWS::SecretsManager::ResourcePolicy': (p) => [p.ResourcePolicy],
  'AWS::Events::EventBusPolicy': (p) => [p.Statement ? { Statement: [p.Statement] } : undefined],
};

/** Every permission statement of the template (identity and resource policies, trust policies excluded), resolved symbolically. */
export function allStatements(json: CfnTemplate): FoundStatement[] {
  const out: FoundStatement[] = [];
  for (const [id, r] of Object.entries(json.Resources)) {
    const docs = POLICY_DOCUMENTS[r.Type]?.(r.Properties ?? {}) ?? [];
    for (const doc of docs) {
      const resolved = resolve(doc) as { Statement?: Statement[] } | undefined;
      for (const statement of resolved?.Statement ?? []) {
        out.push({ owner: `${r.Type}:${id}`, ownerType: r.Type, ownerId: id, statement });
      }
    }
  }
  return out;
}

export const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** Statements of the IAM policies attached to a role (by its logical id). */
export function roleStatements(json: CfnTemplate, roleId: string): Statement[] {
  const out: Statement[] = [];
  for (const [, r] of Object.entries(json.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy') continue;
    const roles = (r.Properties?.Roles as Array<{ Ref: string }>) ?? [];
    if (!roles.some((x) => x.Ref === roleId)) continue;
    const doc = resolve(r.Properties?.PolicyDocument) as { Statement: Statement[] };
    out.push(...doc.Statement);
  }
  const role = json.Resources[roleId];
  for (const p of (role?.Properties?.Policies as Array<{ PolicyDocument: unknown }>) ?? []) {
    out.push(...(resolve(p.PolicyDocument) as { Statement: Statement[] }).Statement);
  }
  return out;
}

/** `action @ resource` pairs of statements (one per combination), for exact comparisons. */
export function grantPairs(statements: Statement[]): string[] {
  const pairs = new Set<string>();
  for (const s of statements) {
    if (s.Effect !== 'Allow') continue;
    for (const a of list(s.Action)) for (const r of list(s.Resource)) pairs.add(`${a} @ ${r}`);
  }
  return [...pairs].sort();
}
