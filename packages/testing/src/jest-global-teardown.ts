/** Jest `globalTeardown`: stops the ephemeral server the global setup started, if any. */
export default async function globalTeardown(): Promise<void> {
  await globalThis.__EVOLVE_EPHEMERAL_PG__?.stop();
  globalThis.__EVOLVE_EPHEMERAL_PG__ = undefined;
}
