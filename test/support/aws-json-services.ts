import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeHttpServer, listenOnLoopback } from '../../local/aws/servers';

/**
 * Stand-ins on loopback for the AWS services of the JSON 1.1 protocol the handlers call besides
 * DynamoDB and S3: Secrets Manager `GetSecretValue` (the secrets it was given,
 * `ResourceNotFoundException` for any other) and EventBridge `PutEvents` (kept for the test to
 * read). The SDK reaches them through `AWS_ENDPOINT_URL_SECRETS_MANAGER` and
 * `AWS_ENDPOINT_URL_EVENTBRIDGE`, as a handler reaches the real services in Lambda.
 */

export interface PutEvent {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
}

export interface AwsJsonServices {
  endpoint: string;
  /** Endpoint variables for a process (or a worker) that should use these stand-ins. */
  env: Record<string, string>;
  /** GetSecretValue calls answered, by secret id. */
  secretReads: Map<string, number>;
  /** Every event put, in order. */
  events: PutEvent[];
  putSecret(arn: string, value: unknown): void;
  close(): Promise<void>;
}

export async function startAwsJsonServices(
  o: { secrets?: Record<string, unknown> } = {},
): Promise<AwsJsonServices> {
  const text = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));
  const secrets = new Map(Object.entries(o.secrets ?? {}).map(([arn, v]) => [arn, text(v)]));
  const secretReads = new Map<string, number>();
  const events: PutEvent[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        reply(400, { __type: 'SerializationException', message: 'body is not JSON' });
        return;
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target === 'secretsmanager.GetSecretValue') {
        const id = String(body.SecretId);
        const value = secrets.get(id);
        if (value === undefined) {
          reply(400, {
            __type: 'ResourceNotFoundException',
            message: "Secrets Manager can't find the specified secret.",
          });
          return;
        }
        secretReads.set(id, (secretReads.get(id) ?? 0) + 1);
        reply(200, {
          ARN: id,
          Name: id.split(':').pop(),
          SecretString: value,
          VersionId: '00000000-0000-4000-8000-000000000001',
          VersionStages: ['AWSCURRENT'],
          CreatedDate: 1_800_000_000,
        });
        return;
      }
      if (target === 'AWSEvents.PutEvents') {
        const entries = (body.Entries ?? []) as PutEvent[];
        events.push(...entries);
        reply(200, { FailedEntryCount: 0, Entries: entries.map(() => ({ EventId: randomUUID() })) });
        return;
      }
      reply(400, { __type: 'UnknownOperationException', message: `not served here: ${target}` });
    });
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    env: { AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint, AWS_ENDPOINT_URL_EVENTBRIDGE: endpoint },
    secretReads,
    events,
    putSecret: (arn, value) => secrets.set(arn, text(value)),
    close: () => closeHttpServer(server),
  };
}
