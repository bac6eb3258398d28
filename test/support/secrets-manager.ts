import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { closeHttpServer, listenOnLoopback } from '../../local/aws/servers';

/**
 * A Secrets Manager stand-in on loopback: `GetSecretValue` (AWS JSON 1.1) for the secrets it was
 * given, `ResourceNotFoundException` for any other. The SDK reaches it through
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`, as the handlers reach the real service in Lambda.
 */

export interface SecretsManagerStandIn {
  endpoint: string;
  /** GetSecretValue calls answered, by secret id. */
  reads: Map<string, number>;
  put(arn: string, value: unknown): void;
  close(): Promise<void>;
}

export async function startSecretsManager(
  secrets: Record<string, unknown> = {},
): Promise<SecretsManagerStandIn> {
  const values = new Map<string, string>(
    Object.entries(secrets).map(([arn, v]) => [arn, typeof v === 'string' ? v : JSON.stringify(v)]),
  );
  const reads = new Map<string, number>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'secretsmanager.GetSecretValue') {
        reply(400, { __type: 'InvalidRequestException', message: `unsupported: ${target}` });
        return;
      }
      let id = '';
      try {
        id = String((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { SecretId?: unknown }).SecretId);
      } catch {
        reply(400, { __type: 'InvalidParameterException', message: 'body is not JSON' });
        return;
      }
      const value = values.get(id);
      if (value === undefined) {
        reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret.",
        });
        return;
      }
      reads.set(id, (reads.get(id) ?? 0) + 1);
      reply(200, {
        ARN: id,
        Name: id.split(':').pop(),
        SecretString: value,
        VersionId: '00000000-0000-4000-8000-000000000001',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: 1_800_000_000,
      });
    });
  });
  const endpoint = await listenOnLoopback(server);
  return {
    endpoint,
    reads,
    put: (arn, value) => values.set(arn, typeof value === 'string' ? value : JSON.stringify(value)),
    close: () => closeHttpServer(server),
  };
}
