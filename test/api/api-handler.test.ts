import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRequestFromEvent, handler } from '../../lambdas/handlers/api';
import { type ApiWorld, startApiWorld } from './harness';

/** The API Gateway handler called with API Gateway's own event shape, and the local runs' shutdown. */

let w: ApiWorld;
beforeAll(async () => {
  w = await startApiWorld();
});
afterAll(() => w?.close());

function gatewayEvent(method: string, path: string, body: unknown, stage = 'prod'): APIGatewayProxyEvent {
  return {
    resource: path,
    path,
    httpMethod: method,
    headers: { 'Content-Type': 'application/json', Host: 'abc.execute-api.eu-west-1.amazonaws.com' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: {
      path: `/${stage}${path}`,
      stage,
      httpMethod: method,
    } as APIGatewayProxyEvent['requestContext'],
  };
}

describe('the API Gateway handler', () => {
  it('keeps the stage prefix in links, and only a well-formed one', () => {
    expect(apiRequestFromEvent(gatewayEvent('GET', '/health', undefined)).basePath).toBe('/prod');
    const odd = gatewayEvent('GET', '/health', undefined);
    odd.requestContext.path = '/pr od\r\n/health';
    expect(apiRequestFromEvent(odd).basePath).toBe('');
    const direct = gatewayEvent('GET', '/health', undefined);
    direct.requestContext.path = '/health';
    expect(apiRequestFromEvent(direct).basePath).toBe('');
  });

  it('routes by the resource and its decoded path parameters (custom domains, proxy resources)', () => {
    const id = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
    const mapped = gatewayEvent('GET', `/v1/requests/${id}/export`, undefined);
    mapped.resource = '/requests/{id}/export';
    mapped.pathParameters = { id };
    mapped.requestContext.path = `/v1/requests/${id}/export`;
    expect(apiRequestFromEvent(mapped)).toMatchObject({ path: `/requests/${id}/export`, basePath: '/v1' });

    const proxy = gatewayEvent('GET', `/requests/${id}`, undefined);
    proxy.resource = '/{proxy+}';
    proxy.pathParameters = { proxy: `requests/${id}` };
    expect(apiRequestFromEvent(proxy)).toMatchObject({ path: `/requests/${id}`, basePath: '/prod' });

    // A decoded id holding a slash stays one (invalid) id, never a second path segment.
    const sneaky = gatewayEvent('GET', '/requests/x', undefined);
    sneaky.resource = '/requests/{id}';
    sneaky.pathParameters = { id: '../health' };
    expect(apiRequestFromEvent(sneaky).path).toBe('/requests/..%2Fhealth');
  });

  it('carries the query string, every value of a repeated parameter included', () => {
    const list = gatewayEvent('GET', '/requests', undefined);
    list.multiValueQueryStringParameters = { status: ['FAILED', 'RUNNING'], limit: ['5'] };
    list.queryStringParameters = { status: 'RUNNING', limit: '5' };
    expect(apiRequestFromEvent(list).query).toEqual({ status: ['FAILED', 'RUNNING'], limit: ['5'] });
    const single = gatewayEvent('GET', '/records', undefined);
    single.queryStringParameters = { since: '2026-01-01' };
    expect(apiRequestFromEvent(single).query).toEqual({ since: ['2026-01-01'] });
    expect(apiRequestFromEvent(gatewayEvent('GET', '/requests', undefined)).query).toEqual({});
  });

  it('answers a repeated query parameter with 400, naming it', async () => {
    const list = gatewayEvent('GET', '/requests', undefined);
    list.multiValueQueryStringParameters = { status: ['FAILED', 'RUNNING'] };
    const res = await handler(list, {} as never);
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toEqual({
      error: { code: 'INVALID_QUERY', message: 'status may be given once' },
    });
  });

  it('answers a proxy event with a proxy result', async () => {
    w.hold();
    const res = await handler(
      gatewayEvent('POST', '/requests', { type: 'access', email: 'someone@example.com' }),
      {} as never,
    );
    expect(res.statusCode).toBe(202);
    expect(res.isBase64Encoded).toBe(false);
    const body = JSON.parse(res.body) as { requestId: string; links: { self: string } };
    expect(body.links.self).toBe(`/prod/requests/${body.requestId}`);
    expect(res.headers?.location).toBe(`/prod/requests/${body.requestId}`);
    const bad = await handler(gatewayEvent('GET', '/requests/..%2F', undefined), {} as never);
    expect(bad.statusCode).toBe(400);
    expect(JSON.parse(bad.body)).toEqual({
      error: { code: 'INVALID_REQUEST_ID', message: expect.any(String) },
    });
  });

  it('on shutdown, a workflow still running is stopped and its request left unfinished, resumable', async () => {
    const [requestId] = w.workflows.running();
    expect(requestId).toBeDefined();
    const { interrupted } = await w.workflows.shutdown({ graceMs: 0, stepGraceMs: 0 });
    expect(interrupted).toEqual([requestId]);
    const doc = JSON.parse(
      (await handler(gatewayEvent('GET', `/requests/${requestId}`, undefined), {} as never)).body,
    );
    // Not FAILED: nothing went wrong with the request; the next owner of the data dir resumes it.
    expect(doc).toMatchObject({ status: 'RECEIVED', error: null });
    expect(doc.timeline.map((t: { step: string }) => t.step)).toContain('INTERRUPTED');
    await expect(w.workflows.start('access', requestId!, 9)).rejects.toThrow(/stopping/);
    w.release();
    expect(await w.workflows.settled(requestId!)).toMatchObject({ status: 'ABORTED' });
  });
});
