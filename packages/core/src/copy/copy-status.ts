import { withClient } from '../db/with-client.js';
import type { CopyPlan } from './copy-spec.js';
import { COPY_SCHEMA, ensureCopyStore, readTableFigures, type CopyTableFigures } from './copy-store.js';

/** Where a copy stands, per entry, with the most frequent dead-letter reasons. */
export interface CopyStatus {
  readonly tables: readonly CopyTableFigures[];
  readonly deadLetterReasons: readonly { readonly entry: string; readonly reason: string; readonly rows: number }[];
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
    return { tables, deadLetterReasons: rows.map((r) => ({ entry: r.entry, reason: r.reason, rows: Number(r.rows) })) };
  });
}
