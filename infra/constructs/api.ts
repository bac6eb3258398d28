import { RemovalPolicy, Validations } from 'aws-cdk-lib';
import {
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  type MethodOptions,
  ResponseType,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { z } from 'zod';
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

/** The routes of BRIEF §4, all IAM-authorized (SigV4). */
export const API_ROUTES = [
  { method: 'POST', path: '/requests' },
  { method: 'GET', path: '/requests/{id}' },
  { method: 'GET', path: '/requests/{id}/export' },
  { method: 'POST', path: '/requests/{id}/retry' },
  { method: 'GET', path: '/health' },
] as const;

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
    // API Gateway validates `POST /requests` bodies before the handler runs; the handler validates
    // again (it also serves the local API), with the rules the model leaves out.
    const createSchema = requestModelSchema(props.submission ?? requestSubmission, CREATE_REQUEST_MODEL_NAME);
    // The schema validator's own message can quote the rejected value (an email): a fixed text instead.
    const bodyRule = `the body must be JSON ${describeModel(createSchema)} with no other fields`;
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
    const createModel = this.api.addModel('CreateRequestModel', {
      contentType: 'application/json',
      modelName: CREATE_REQUEST_MODEL_NAME,
      schema: createSchema,
    });
    const integration = new LambdaIntegration(props.handler, { allowTestInvoke: false });
    const withId: MethodOptions = {
      requestValidator: validator,
      requestParameters: { 'method.request.path.id': true },
    };

    const requests = this.api.root.addResource('requests');
    requests.addMethod('POST', integration, {
      requestValidator: validator,
      requestModels: { 'application/json': createModel },
    });
    const request = requests.addResource('{id}');
    request.addMethod('GET', integration, withId);
    request.addResource('export').addMethod('GET', integration, withId);
    request.addResource('retry').addMethod('POST', integration, withId);
    this.api.root.addResource('health').addMethod('GET', integration, { requestValidator: validator });
  }
}
