/**
 * The Qualtrics simulator: a local HTTP server that speaks the subset of the Qualtrics v3 API this
 * connector uses (OAuth token, whoami, XM Directory, customer-data jobs, erasures), with the
 * endpoint table's rate limits, scripted faults and counters. Used by the CLI (`simulator`,
 * and as the default Qualtrics of local runs), the workflows' tests and the rate-limiter benchmark.
 *
 * Over HTTP, outside `/API/v3`:
 *   GET  /__simulator/counters[?log=1]   counters as JSON (the admitted-request log only with log=1)
 *   POST /__simulator/faults             {"endpoint", "fault"} to arm, {"clear": true[, "endpoint"]} to clear
 *   POST /__simulator/revoke-tokens      every issued token now answers 401 AUTH_6.0
 *   POST /__simulator/reset-counters
 */

export type { SeedContact, SeedDirectory, SeedSurveyResponse, SeedUser, SimulatorSeed } from './seed';
export { defaultSeed, SEEDED_SUBJECT } from './seed';
export { connectorEnvFor, SIMULATOR_CLIENT, startSimulator } from './server';
export type {
  CustomerDataJobView,
  EndpointCounters,
  ErasureView,
  Fault,
  FaultInjector,
  MutableSimulatorOptions,
  Simulator,
  SimulatorClient,
  SimulatorCounters,
  SimulatorOptions,
  SubjectCounters,
} from './types';
