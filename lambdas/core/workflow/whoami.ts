import type { StepEnv } from './env';
import type { WhoamiEvent } from './inputs';
import { callOrWait } from './throttle';

/**
 * `GET /whoami` as a step (the connection check's core call, usable from a state machine): the
 * ids of the API user and brand, never their name or email.
 */
export type WhoamiResult =
  | { ok: true; brandId: string; userId: string; accountType?: string; datacenter?: string }
  | { ok: false; waitUntil: string; reservations?: { key: string; slotAt: number }[] };

export async function whoami(env: StepEnv, input: WhoamiEvent): Promise<WhoamiResult> {
  const q = await env.qualtrics(input.reservations);
  const answer = await callOrWait(env, q, 'whoami', () => q.api.whoami());
  if ('wait' in answer) return { ok: false, ...answer.wait };
  const me = answer.value;
  return {
    ok: true,
    brandId: me.brandId,
    userId: me.userId,
    ...(me.accountType ? { accountType: me.accountType } : {}),
    ...(me.datacenter ? { datacenter: me.datacenter } : {}),
  };
}
