import { withClient } from '../db/with-client.js';
import type { CopyPlan } from './copy-spec.js';
import { COPY_SCHEMA, ensureCopyStore, readTableFigures, type CopyTableFigures } from './copy-store.js';

/** Where a copy stands, per entry, with the most frequent dead-letter reasons and catch-up's open conflicts. */
export interface CopyStatus {
  readonly tables: readonly CopyTableFigures[];
  readonly deadLetterReasons: readonly { readonly entry: string; readonly reason: string; readonly rows: number }[];
  /** Source rows catch-up could not apply to their copied row (the first 50 by entry and key). */
  readonly conflicts: readonly { readonly entry: string; readonly sourceKey: string; readonly reason: string }[];
}

/** Reads the copy's tracker in the target. Read-only apart from creating the tracker tables if absent. */
export async function readCopyStatus(plan: CopyPlan, targetUrl: string): Promise<CopyStatus> {
  return withClient(targetUrl, async (client) => {
    await ensureCopyStore(client);
    const tables = [];
    for (const table of plan.tables) tables.push(await readTableFigures(client, plan.name, table.entry));
    // Reasons grouped by their text up to the first colon-separated detail (the key value differs per row).
    const { rows } = await client.query<{ entry: string; reason: string; rows: string }>(
      `select entry, regexp_replace(reason, ' = [^:]*:', ' = …:') as reason, count(*) as rows from ${COPY_SCHEMA}.copy_dead_letter where copy = $1 group by 1, 2 order by 3 desc limit 20`,
      [plan.name],
    );
    const conflicts = await client.query<{ entry: string; source_key: string; reason: string }>(
      `select entry, source_key, reason from ${COPY_SCHEMA}.copy_conflict where copy = $1 order by entry, source_key limit 50`,
      [plan.name],
    );
    return {
      tables,
      deadLetterReasons: rows.map((r) => ({ entry: r.entry, reason: r.reason, rows: Number(r.rows) })),
      conflicts: conflicts.rows.map((r) => ({ entry: r.entry, sourceKey: r.source_key, reason: r.reason })),
    };
  });
}
