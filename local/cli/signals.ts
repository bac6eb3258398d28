/**
 * Ctrl-C and SIGTERM for a process that must stop in order (README "Stopping and crash recovery"): the first signal
 * starts the stop, a second one hurries it. Until `dispose()`, neither ends the process by itself.
 */
export interface StopSignals {
  /** Resolves with the first signal. */
  readonly first: Promise<NodeJS.Signals>;
  /** Resolves with the second. */
  readonly second: Promise<void>;
  /** The first signal, once it came. */
  received(): NodeJS.Signals | undefined;
  dispose(): void;
}

export function stopSignals(): StopSignals {
  let got: NodeJS.Signals | undefined;
  let onFirst: (s: NodeJS.Signals) => void = () => undefined;
  let onSecond: () => void = () => undefined;
  const first = new Promise<NodeJS.Signals>((resolve) => {
    onFirst = resolve;
  });
  const second = new Promise<void>((resolve) => {
    onSecond = resolve;
  });
  const listener = (signal: NodeJS.Signals) => {
    if (got) onSecond();
    else {
      got = signal;
      onFirst(signal);
    }
  };
  process.on('SIGINT', listener);
  process.on('SIGTERM', listener);
  return {
    first,
    second,
    received: () => got,
    dispose() {
      process.removeListener('SIGINT', listener);
      process.removeListener('SIGTERM', listener);
    },
  };
}

/** The conventional exit code of a process ended by `signal` (130 for Ctrl-C, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : 130;
}
