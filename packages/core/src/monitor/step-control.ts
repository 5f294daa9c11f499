import type pg from 'pg';
import { relationExists } from '../db/table-catalog.js';
import { quoteQualified } from '../sql.js';

/** Name of the control table in the state schema (`_evolve.step_control`). */
export const STEP_CONTROL_TABLE = 'step_control';
/** How long workers reuse what they read from the control table (ms): at most one read per batch and per this. */
export const DEFAULT_CONTROL_CACHE_MS = 250;
/** How often a paused worker looks at the control table again (ms). */
export const DEFAULT_CONTROL_POLL_MS = 250;

/** What an operator asked of a running data step. */
export type ControlAction = 'pause' | 'cancel';
/** What a worker does next: go on, wait, or stop (keeping its checkpoint). */
export type ControlState = 'run' | ControlAction;

/** A flag set on a step, as `status` reports it. */
export interface StepControlFlag {
  readonly step: string;
  readonly action: ControlAction;
  readonly requestedBy: string | null;
  readonly requestedAt: string;
}

/** DDL of the control table, for `DataMigrationStore.ensure`. Idempotent (`IF NOT EXISTS`). */
export function stepControlDdl(stateSchema: string): string[] {
  return [
    `create table if not exists ${quoteQualified(stateSchema, STEP_CONTROL_TABLE)} (
       step text primary key,
       action text not null check (action in ('pause', 'cancel')),
       requested_by text,
       requested_at timestamptz not null default now())`,
  ];
}

/**
 * Sets (`pause`, `cancel`) or clears (`resume`) the control flag of `step` (a tracking name such as
 * `phase:<phase>/<step>`). One statement, autocommitted by the caller's connection; idempotent. A cancel
 * replaces a pause (paused workers then stop); `resume` clears a pause only, never a pending cancel.
 * The table must exist (see {@link stepControlDdl}). Returns the flag now set, if any.
 */
export async function setStepControl(
  client: pg.ClientBase,
  stateSchema: string,
  step: string,
  action: ControlAction | 'resume',
  requestedBy: string,
): Promise<ControlAction | undefined> {
  const table = quoteQualified(stateSchema, STEP_CONTROL_TABLE);
  if (action === 'resume') {
    await client.query(`delete from ${table} where step = $1 and action = 'pause'`, [step]);
  } else {
    await client.query(
      `insert into ${table} (step, action, requested_by) values ($1, $2, $3)
       on conflict (step) do update set action = excluded.action, requested_by = excluded.requested_by, requested_at = now()
       where ${table}.action <> 'cancel' or excluded.action = 'cancel'`,
      [step, action, requestedBy],
    );
  }
  const { rows } = await client.query<{ action: ControlAction }>(`select action from ${table} where step = $1`, [step]);
  return rows[0]?.action;
}

/**
 * Removes the cancel flag of `step` (and of its units): a cancel stops the run it met; the next `run`
 * starts afresh. A pause stays. No-op when the table does not exist.
 */
export async function clearStepCancel(client: pg.ClientBase, stateSchema: string, step: string): Promise<void> {
  const table = quoteQualified(stateSchema, STEP_CONTROL_TABLE);
  if (!(await relationExists(client, table))) return;
  await client.query(`delete from ${table} where action = 'cancel' and (step = $1 or left($1, length(step) + 1) = step || '/')`, [step]);
}

/** Every flag set, by step name. Read-only; an absent table reads as none. */
export async function readStepControls(client: pg.ClientBase, stateSchema: string): Promise<StepControlFlag[]> {
  const table = quoteQualified(stateSchema, STEP_CONTROL_TABLE);
  if (!(await relationExists(client, table))) return [];
  const { rows } = await client.query<StepControlFlag>(
    `select step, action, requested_by as "requestedBy", to_char(requested_at at time zone 'utc', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as "requestedAt"
     from ${table} order by step`,
  );
  return rows;
}

/**
 * What the workers of one step read between batches: the flag of the step or of the step it belongs to
 * (`a/b/01:unit` obeys a flag on `a/b`), a cancel winning over a pause. One primary-key-sized read on the
 * worker's own connection outside any transaction, shared by all workers of the run and reused for
 * `cacheMs`. A failed read counts as `run` (the control plane never stops a healthy step by itself).
 */
export class StepControlReader {
  private cached: { state: ControlState; at: number } | undefined;
  private readonly table: string;

  constructor(
    stateSchema: string,
    readonly step: string,
    private readonly cacheMs = DEFAULT_CONTROL_CACHE_MS,
  ) {
    this.table = quoteQualified(stateSchema, STEP_CONTROL_TABLE);
  }

  /** The state to obey now; reads the table when the cached answer is older than `cacheMs`. */
  async read(client: pg.ClientBase): Promise<ControlState> {
    const now = performance.now();
    if (this.cached && now - this.cached.at < this.cacheMs) return this.cached.state;
    let state: ControlState = 'run';
    try {
      const { rows } = await client.query<{ action: ControlAction }>(
        `select action from ${this.table} where step = $1 or left($1, length(step) + 1) = step || '/'
         order by action = 'cancel' desc limit 1`,
        [this.step],
      );
      state = rows[0]?.action ?? 'run';
    } catch {
      state = 'run';
    }
    this.cached = { state, at: performance.now() };
    return state;
  }
}
