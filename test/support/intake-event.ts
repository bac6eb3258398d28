import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';
import { INTAKE_DETAIL_TYPE } from '../../lambdas/handlers/intake-event';

/** An EventBridge `Privacy Request Submitted` event as a rule delivers it, with a fresh id. */
export function intakeEvent(
  detail: unknown,
  detailType: string = INTAKE_DETAIL_TYPE,
): EventBridgeEvent<string, unknown> {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'acme.intake',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'eu-west-1',
    resources: [],
    detail,
  };
}
