/**
 * An `AbortSignal` that aborts on the first of `signals` (default SIGINT and SIGTERM), for graceful stops
 * of long steps: the step finishes its batch, saves its checkpoint and returns. A second signal is left
 * to Node's default handling (the process exits at once), so an impatient operator can still force it.
 * Call `dispose` to remove the handlers.
 */
export function abortOnSignals(signals: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']): {
  readonly signal: AbortSignal;
  dispose(): void;
} {
  const controller = new AbortController();
  const dispose = (): void => {
    for (const name of signals) process.removeListener(name, onSignal);
  };
  function onSignal(name: NodeJS.Signals): void {
    dispose();
    process.stderr.write(`\n${name} received: finishing the current batch and saving the checkpoint (send it again to exit at once)\n`);
    controller.abort(new Error(`${name} received`));
  }
  for (const name of signals) process.once(name, onSignal);
  return { signal: controller.signal, dispose };
}
