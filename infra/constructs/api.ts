import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type MethodOptions,
  type Model,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { z } from 'zod';
import { extensionRequest, subjectSearch } from '../../lambdas/core/api/body';
import { batchSubmission, bulkRetryRequest } from '../../lambdas/core/api/bulk';
import { LIST_PARAMETERS, METRICS_PARAMETERS, RECORDS_PARAMETERS } from '../../lambdas/core/api/ledger-query';
import { type RouteName, SHARED_ROUTES } from '../../lambdas/core/api/routes';
import { requestSubmission } from '../../lambdas/core/request-contract';
import { describeModel, requestModelSchema } from './request-model';

export interface PrivacyApiProps {
  /** The `api` handler: every route goes to it (the same handler `serve` runs locally). */
  readonly handler: IFunction;
  /** Steady-state requests per second for the whole stage. */
  readonly throttlingRateLimit?: number;
  readonly throttlingBurstLimit?: number;
  /**
   * The request contract the `POST /requests` model is generated from.
   * @default requestSubmission (lambdas/core/request-contract.ts)
   */
  readonly submission?: z.ZodType;
}

export const API_STAGE = 'v1';
export const DEFAULT_THROTTLING = { rateLimit: 10, burstLimit: 20 } as const;

/** The `POST /requests` model's name (and its schema's title). */
export const CREATE_REQUEST_MODEL_NAME = 'CreatePrivacyRequest';

/**
 * The routes of the HTTP API (lambdas/core/api/routes.ts) but the local-only ones (the sweep on
 * demand, the operator page), all IAM-authorized (SigV4).
 */
export const API_ROUTES = SHARED_ROUTES.map(({ method, path }) => ({ method, path }));

/** The query parameters API Gateway passes on (all optional; the handler checks their values). */
const QUERY_PARAMETERS: Partial<Record<RouteName, readonly string[]>> = {
  listRequests: LIST_PARAMETERS,
  records: RECORDS_PARAMETERS,
  metrics: METRICS_PARAMETERS,
};

/**
 * The REST API our users' intake systems call: IAM auth on every method, request validation,
 * JSON access logs, stage throttling, and errors in the connector's `{"error":{code,message}}` shape
 * even when API Gateway answers by itself (auth, validation, throttling).
 */
export class PrivacyApi extends Construct {
  readonly api: RestApi;
  readonly accessLogs: LogGroup;

  constructor(scope: Construct, id: string, props: PrivacyApiProps) {
    super(scope, id);
    this.accessLogs = new LogGroup(this, 'AccessLogs', {
      retention: RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.api = new RestApi(this, 'RestApi', {
      description: 'qualtrics-dsr privacy requests (IAM auth)',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      // Execution logs (ERROR level, no bodies) need API Gateway's account-level CloudWatch role.
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      deployOptions: {
        stageName: API_STAGE,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        // Who called what and the outcome; never a body, header values or query strings.
        accessLogFormat: AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? DEFAULT_THROTTLING.rateLimit,
        throttlingBurstLimit: props.throttlingBurstLimit ?? DEFAULT_THROTTLING.burstLimit,
      },
    });
    // The stack exports the URL as `ApiUrl`; the construct's own hashed-id output would be a second copy.
    this.api.node.tryRemoveChild('Endpoint');
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'API Gateway’s account-level logging role: AWS’s managed policy is the documented way to let it write execution logs.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason:
        'Every method requires SigV4 (IAM) and the stage is throttled; only principals of the account can call it, so a WAF web ACL adds cost without a threat it would stop.',
    });
    Validations.of(this.api).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'The callers are systems with IAM credentials (SigV4), not end users: IAM authorization, not Cognito.',
    });

    const errorBody = {
      'application/json':
        '{"error":{"code":"$context.error.responseType","message":$context.error.messageString}}',
    };
    this.api.addGatewayResponse('Default4xx', { type: ResponseType.DEFAULT_4XX, templates: errorBody });
    this.api.addGatewayResponse('Default5xx', { type: ResponseType.DEFAULT_5XX, templates: errorBody });
    // API Gateway validates request bodies before the handler runs; the handler validates again
    // (it also serves the local API), with the rules the models leave out. Each model is generated
    // from the body's zod definition.
    const bodies: Partial<Record<RouteName, { id: string; name: string; schema: z.ZodType }>> = {
      createRequest: {
        id: 'CreateRequestModel',
        name: CREATE_REQUEST_MODEL_NAME,
        schema: props.submission ?? requestSubmission,
      },
      searchRequests: { id: 'SearchRequestsModel', name: 'SearchPrivacyRequests', schema: subjectSearch },
      extendRequest: { id: 'ExtendRequestModel', name: 'ExtendPrivacyRequest', schema: extensionRequest },
      // Each submission is checked by the handler on its own: one bad item must not refuse the batch.
      submitBatch: { id: 'SubmitBatchModel', name: 'SubmitPrivacyRequestBatch', schema: batchSubmission },
      retryFailed: { id: 'RetryFailedModel', name: 'RetryFailedPrivacyRequests', schema: bulkRetryRequest },
    };
    const models: Partial<Record<RouteName, Model>> = {};
    const rules: string[] = [];
    for (const route of SHARED_ROUTES) {
      const body = bodies[route.name];
      if (!body) continue;
      const schema = requestModelSchema(body.schema, body.name);
      rules.push(`${route.method} ${route.path} ${describeModel(schema)}`);
      models[route.name] = this.api.addModel(body.id, {
        contentType: 'application/json',
        modelName: body.name,
        schema,
      });
    }
    // The schema validator's own message can quote the rejected value (an email): a fixed text instead.
    const bodyRule = `the body must be JSON with no other fields: ${rules.join('; ')}`;
    this.api.addGatewayResponse('BadRequestBody', {
      type: ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json': JSON.stringify({ error: { code: 'INVALID_REQUEST', message: bodyRule } }),
      },
    });

    const validator = this.api.addRequestValidator('RequestValidator', {
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const integration = new LambdaIntegration(props.handler, { allowTestInvoke: false });
    for (const route of SHARED_ROUTES) {
      const model = models[route.name];
      const parameters: Record<string, boolean> = {};
      if (route.path.includes('{id}')) parameters['method.request.path.id'] = true;
      for (const name of QUERY_PARAMETERS[route.name] ?? []) {
        parameters[`method.request.querystring.${name}`] = false;
      }
      const options: MethodOptions = {
        requestValidator: validator,
        ...(Object.keys(parameters).length > 0 ? { requestParameters: parameters } : {}),
        ...(model ? { requestModels: { 'application/json': model } } : {}),
      };
      this.api.root.resourceForPath(route.path).addMethod(route.method, integration, options);
    }
  }
}
