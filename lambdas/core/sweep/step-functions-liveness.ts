import { DescribeExecutionCommand, type SFNClient } from '@aws-sdk/client-sfn';
import { executionName } from '../execution-names';
import type { RequestRecord, RequestType } from '../request-store';
import { executionArn } from '../workflow-starter';
import type { Liveness } from './sweep';

/**
 * Liveness in AWS: Step Functions' own answer about the request's current execution (the one the
 * record names, else `<requestId>-1`). RUNNING is live; any other status, or no such execution, is
 * not. A throttled, failed or unanswered DescribeExecution is `unknown`: the sweep never resumes on
 * doubt (a second execution of a live request would be the worse mistake).
 */
export function stepFunctionsLiveness(
  client: Pick<SFNClient, 'send'>,
  stateMachineArns: (type: RequestType) => string,
): (record: RequestRecord) => Promise<Liveness> {
  return async (record) => {
    const name = record.execution?.name ?? executionName(record.requestId, 1);
    const arn = executionArn(stateMachineArns(record.type), name);
    try {
      const out = await client.send(new DescribeExecutionCommand({ executionArn: arn }));
      return out.status === 'RUNNING' ? 'live' : 'stalled';
    } catch (err) {
      return (err as { name?: string })?.name === 'ExecutionDoesNotExist' ? 'stalled' : 'unknown';
    }
  };
}
