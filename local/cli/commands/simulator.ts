import { SEEDED_SUBJECT, SIMULATOR_CLIENT, startSimulator } from '../../simulator';
import { ExitCode } from '../exit-codes';
import { portInUseError } from '../local-faults';

/** `qualtrics-dsr simulator`: the built-in Qualtrics simulator on its own, until Ctrl-C. */
export async function simulator(o: { port: number; timeScale: number }): Promise<number> {
  const sim = await startSimulator({ port: o.port, timeScale: o.timeScale }).catch((err: unknown) => {
    throw portInUseError(err, o.port);
  });
  // These are the simulator's fixed, public test credentials, not secrets.
  process.stderr.write(
    [
      `Qualtrics simulator listening on ${sim.url} (time scale ${o.timeScale})`,
      `  QUALTRICS_BASE_URL=${sim.url}`,
      `  QUALTRICS_CLIENT_ID=${SIMULATOR_CLIENT.clientId}`,
      `  QUALTRICS_CLIENT_SECRET=${SIMULATOR_CLIENT.clientSecret}`,
      `  a seeded subject: ${SEEDED_SUBJECT}`,
      `  counters: GET ${sim.url}/__simulator/counters`,
      'Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sim.close();
  return ExitCode.Ok;
}
