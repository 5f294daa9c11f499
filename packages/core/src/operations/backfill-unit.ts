import { backfill } from '../backfill/backfill.js';
import type { BackfillOptions } from '../backfill/backfill-options.js';
import type { DataUnit } from './operation.js';

/** What a backfill unit is configured with: `backfill`'s options minus what the runner supplies. */
export type BackfillUnitOptions = Omit<BackfillOptions, 'database' | 'name' | 'tracking' | 'signal' | 'onProgress'>;

/**
 * A data unit that runs `backfill` under the runner's tracking name, signal and progress callback, so it
 * is batched, checkpointed and resumable like any backfill. Pure (nothing runs until `run`).
 */
export function backfillUnit(name: string, description: string, options: BackfillUnitOptions, remaining?: string): DataUnit {
  return {
    kind: 'data',
    name,
    description,
    ...(remaining ? { remaining } : {}),
    run: async (context) => {
      const result = await backfill({
        ...options,
        database: context.databaseUrl,
        name: context.name,
        tracking: context.tracking,
        signal: context.signal,
        ...(context.onProgress ? { onProgress: context.onProgress } : {}),
      });
      return { processed: result.scanned, failed: result.skipped, canceled: result.status === 'canceled', summary: result.coverage };
    },
  };
}
