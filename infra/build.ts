import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Annotations, App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { shortRetentionWarning } from '../lambdas/core/ledger';
import { CONTEXT_KEYS, settingsFromContext } from './config';
import { REPO_ROOT } from './paths';
import { QualtricsDsrStack } from './stack';

export const STACK_NAME = 'QualtricsDsr';

export interface BuildOptions {
  /** Extra context (tests: `{ 'aws:cdk:bundling-stacks': [] }` to skip bundling, or settings). */
  context?: Record<string, unknown>;
  /** Register cdk-nag's AwsSolutions pack as a synth-time validation plugin (the CLI app does). */
  nag?: boolean;
}

/**
 * The feature flags and defaults of cdk.json. The CLI passes them to the app by itself; tests
 * construct the App directly, so they get them here — both synthesize the same template.
 */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(REPO_ROOT, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  return cdkJson.context ?? {};
}

/**
 * The app with the one stack. Environment-agnostic on purpose: no account or region lookups, so
 * `cdk synth` works offline with no credentials; `cdk deploy` binds it to the caller's account.
 */
export function buildApp(options: BuildOptions = {}): { app: App; stack: QualtricsDsrStack } {
  const app = new App({ context: { ...cdkJsonContext(), ...options.context } });
  const deprecations: Array<{ message: string; oldKey: string }> = [];
  const settings = settingsFromContext(
    (key) => app.node.tryGetContext(key),
    (message, oldKey) => deprecations.push({ message, oldKey }),
  );
  const stack = new QualtricsDsrStack(app, STACK_NAME, { settings });
  // On the stack, where `cdk synth` and `cdk deploy` print them as warnings.
  for (const { message, oldKey } of deprecations) {
    Annotations.of(stack).addWarningV2(`qualtrics-dsr:deprecated-context-${oldKey}`, message);
  }
  // A shorter record retention works (a GDPR-only controller may want it), but not for California.
  const retention = shortRetentionWarning(
    settings.recordRetentionDays,
    `context "${CONTEXT_KEYS.recordRetentionDays}"`,
  );
  if (retention) Annotations.of(stack).addWarningV2('qualtrics-dsr:short-record-retention', retention);
  if (options.nag) Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
  return { app, stack };
}
