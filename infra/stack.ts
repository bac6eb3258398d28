import { CfnOutput, RemovalPolicy, Stack, type StackProps, Validations } from 'aws-cdk-lib';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { HANDLER_NAMES, HANDLERS, type HandlerSpec } from '../lambdas/catalog';
import { SECRET_PLACEHOLDERS } from '../lambdas/core/config';
import type { DeploymentSettings } from './config';
import { Alarms } from './constructs/alarms';
import { PrivacyApi } from './constructs/api';
import { ConnectorEvents } from './constructs/events';
import { HandlerFunctions } from './constructs/functions';
import { Storage } from './constructs/storage';
import { Workflows } from './constructs/workflows';

export interface QualtricsDsrStackProps extends StackProps {
  readonly settings: DeploymentSettings;
}

/** A complete secret ARN ends in `-` and six random characters; anything else is a partial ARN. */
const COMPLETE_SECRET_ARN = /-[A-Za-z0-9]{6}$/;

/** The placeholder a created secret starts with; users put their OAuth client in (docs/deploy.md). */
export const SECRET_PLACEHOLDER_CLIENT_ID = SECRET_PLACEHOLDERS.clientId;
/** Not a valid datacenter id, so a forgotten placeholder fails with an error naming the secret's field. */
export const SECRET_PLACEHOLDER_DATACENTER = SECRET_PLACEHOLDERS.datacenter;

/**
 * qualtrics-dsr in one stack (docs/deploy.md#what-gets-deployed): storage, the Qualtrics secret,
 * one function per catalog handler, the access and deletion workflows, the REST API, EventBridge
 * intake and schedule, alarms. Construct ids are a contract (they become logical ids): renaming one
 * replaces the resource.
 */
export class QualtricsDsrStack extends Stack {
  readonly storage: Storage;
  readonly secret: ISecret;
  readonly events: ConnectorEvents;
  readonly handlers: HandlerFunctions;
  readonly workflows: Workflows;
  readonly api: PrivacyApi;
  readonly alarms: Alarms;

  constructor(scope: Construct, id: string, props: QualtricsDsrStackProps) {
    super(scope, id, {
      description: 'qualtrics-dsr: GDPR/CCPA access and deletion requests against Qualtrics',
      ...props,
    });
    const { settings } = props;

    this.storage = new Storage(this, 'Storage', { retentionDays: settings.retentionDays });

    let secretResourceArns: string[];
    if (settings.qualtricsSecretArn) {
      this.secret = COMPLETE_SECRET_ARN.test(settings.qualtricsSecretArn)
        ? Secret.fromSecretCompleteArn(this, 'QualtricsSecret', settings.qualtricsSecretArn)
        : Secret.fromSecretPartialArn(this, 'QualtricsSecret', settings.qualtricsSecretArn);
      secretResourceArns = COMPLETE_SECRET_ARN.test(settings.qualtricsSecretArn)
        ? [settings.qualtricsSecretArn]
        : [`${settings.qualtricsSecretArn}-??????`];
    } else {
      // Created with placeholders and a random clientSecret: never a real credential in the template.
      const created = new Secret(this, 'QualtricsSecret', {
        description:
          'qualtrics-dsr: Qualtrics OAuth client {"clientId","clientSecret","datacenter"} — replace the placeholders',
        // Secrets Manager's AWS-managed key: a credential, not personal data; IAM on the secret's ARN
        // decides who reads it, and users can store the value without a grant on our key.
        generateSecretString: {
          secretStringTemplate: JSON.stringify({
            clientId: SECRET_PLACEHOLDER_CLIENT_ID,
            datacenter: settings.datacenter ?? SECRET_PLACEHOLDER_DATACENTER,
          }),
          generateStringKey: 'clientSecret',
          excludePunctuation: true,
          passwordLength: 32,
        },
        removalPolicy: RemovalPolicy.RETAIN,
      });
      Validations.of(created).acknowledge({
        id: 'AwsSolutions-SMG4',
        reason:
          'A Qualtrics OAuth client secret is issued by Qualtrics (OAuth Client Manager); it cannot be rotated from AWS. Rotate it there and update this secret.',
      });
      this.secret = created;
      secretResourceArns = [created.secretArn];
    }

    this.events = new ConnectorEvents(this, 'Events');

    this.handlers = new HandlerFunctions(this, 'Handlers', {
      grants: {
        requestsTable: this.storage.requestsTable,
        limiterTable: this.storage.limiterTable,
        exportsBucket: this.storage.exportsBucket,
        dataKey: this.storage.dataKey,
        secretResourceArns,
        eventBus: this.events.bus,
      },
      secretArn: this.secret.secretArn,
      datacenter: settings.datacenter,
      targetUtilization: settings.targetUtilization,
      deletionDone: settings.deletionDone,
      ledger: {
        recordRetentionDays: settings.recordRetentionDays,
        forgetEmailAfterDays: settings.forgetEmailAfterDays,
        defaultJurisdiction: settings.defaultJurisdiction,
      },
      qualtricsConcurrency: settings.qualtricsConcurrency,
      deadLetterQueues: { intakeEvent: this.events.intakeDeadLetterQueue },
    });
    const fns = this.handlers.functions;

    this.workflows = new Workflows(this, 'Workflows', { functions: fns });
    this.handlers.connectWorkflows({ access: this.workflows.access, deletion: this.workflows.deletion });

    this.api = new PrivacyApi(this, 'Api', { handler: fns.api });
    this.events.routeSubmissions(fns.intakeEvent);
    this.events.routeExecutionEnds(fns.executionEnded, [this.workflows.access, this.workflows.deletion]);
    this.events.scheduleConnectionCheck(fns.connectionCheck, settings.connectionCheckSchedule);
    this.events.scheduleSweep(fns.sweep);

    const qualtricsLogGroups = HANDLER_NAMES.filter((n) => (HANDLERS[n] as HandlerSpec).callsQualtrics).map(
      (n) => this.handlers.logGroups[n],
    );
    this.alarms = new Alarms(this, 'Alarms', {
      stateMachines: { access: this.workflows.access, deletion: this.workflows.deletion },
      connectionCheck: fns.connectionCheck,
      qualtricsLogGroups,
      intakeDeadLetterQueue: this.events.intakeDeadLetterQueue,
      sweep: fns.sweep,
      email: settings.alarmEmail,
    });

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.api.url,
      description: 'Base URL of the IAM-authorized API',
    });
    new CfnOutput(this, 'AccessStateMachineArn', { value: this.workflows.access.stateMachineArn });
    new CfnOutput(this, 'DeletionStateMachineArn', { value: this.workflows.deletion.stateMachineArn });
    new CfnOutput(this, 'EventBusName', { value: this.events.bus.eventBusName });
    new CfnOutput(this, 'QualtricsSecretArn', { value: this.secret.secretArn });
    new CfnOutput(this, 'ExportsBucketName', { value: this.storage.exportsBucket.bucketName });
    new CfnOutput(this, 'RequestsTableName', { value: this.storage.requestsTable.tableName });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarms.topic.topicArn });
  }
}
