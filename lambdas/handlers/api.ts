import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { type ApiDeps, type ApiRequest, createApi } from '../core/api';
import { checkConnection } from '../core/connection-check';
import { qualtricsSettings, workflowDeps } from '../core/workflow/deps';
import { workflowStarter } from '../core/workflow-starter';
import { stepLogger } from '../middleware';

/**
 * API Gateway (REST, proxy integration) → the HTTP API (README "HTTP API"). The local `serve` command
 * calls this same handler with the same event shape.
 */

// The shared logger: JSON lines, silent outside Lambda unless POWERTOOLS_LOG_LEVEL asks, emails scrubbed.
const logger = stepLogger.createChild({ persistentKeys: { handler: 'api' } });

// Getters: each dependency is built on first use and cached by its module (a warm Lambda reuses it).
// The local server builds its API on these too (local/owner).
export const apiDeps: ApiDeps = {
  get store() {
    return workflowDeps().store;
  },
  get bundles() {
    return workflowDeps().writer;
  },
  get starter() {
    return workflowStarter();
  },
  async checkConnection() {
    const settings = await qualtricsSettings();
    const { api } = await workflowDeps().qualtrics();
    return checkConnection(api, settings.origin);
  },
  log: (entry) => {
    if (entry.status >= 500) logger.error('api request failed', { ...entry });
    else logger.info('api request', { ...entry });
  },
};

const handle = createApi(apiDeps);

/**
 * The event's request. Routing uses the API Gateway resource and its path parameters when they
 * are ours (a custom-domain base path then stays out of the way), else the path; links keep the
 * prefix the client used (`/prod/requests/…`).
 */
export function apiRequestFromEvent(event: APIGatewayProxyEvent): ApiRequest {
  const path = routingPath(event);
  const clientPath = event.requestContext?.path;
  let basePath = '';
  if (clientPath && clientPath !== path && clientPath.endsWith(path)) {
    const prefix = clientPath.slice(0, -path.length);
    if (/^(\/[A-Za-z0-9._~-]+)+$/.test(prefix)) basePath = prefix;
  }
  return {
    method: event.httpMethod,
    path,
    headers: event.headers ?? {},
    body: event.body ?? null,
    isBase64Encoded: event.isBase64Encoded,
    basePath,
    query: queryOf(event),
  };
}

/** Every value of each query parameter (API Gateway decodes them); the single-value map is the fallback. */
function queryOf(event: APIGatewayProxyEvent): Record<string, string[]> {
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    return Object.fromEntries(Object.entries(multi).map(([name, values]) => [name, [...(values ?? [])]]));
  }
  const single = event.queryStringParameters ?? {};
  return Object.fromEntries(
    Object.entries(single).flatMap(([name, value]) => (value === undefined ? [] : [[name, [value]]])),
  );
}

const OWN_RESOURCE = /^(\/([A-Za-z0-9._-]+|\{id\}))+$/;

function routingPath(event: APIGatewayProxyEvent): string {
  const resource = event.resource;
  const params = event.pathParameters ?? {};
  // API Gateway decodes path parameters: encode them again for the router, which decodes once.
  const encode = (value: string) => value.split('/').map(encodeURIComponent).join('/');
  if (typeof resource === 'string') {
    const proxy = params.proxy;
    if (resource.endsWith('/{proxy+}') && typeof proxy === 'string') {
      return `${resource.slice(0, -'{proxy+}'.length)}${encode(proxy)}`;
    }
    if (OWN_RESOURCE.test(resource)) {
      if (!resource.includes('{id}')) return resource;
      if (typeof params.id === 'string') return resource.replace('{id}', encodeURIComponent(params.id));
    }
  }
  return event.path || '/';
}

export const handler = middy(async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
  const response = await handle(apiRequestFromEvent(event));
  return { ...response, isBase64Encoded: false };
});
