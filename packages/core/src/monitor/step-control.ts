import type pg from 'pg';
import { sleep } from '../db/retry-policy.js';
import { relationExists } from '../db/table-catalog.js';
import { quoteQualified } from '../sql.js';

/** Name of the control table in the state schema (`_evolve.step_control`). */
export const STEP_CONTROL_TABLE = 'step_control';
/** How long workers reuse what they read from the control table (ms): at most one read per batch and per this. */
export const DEFAULT_CONTROL_CACHE_MS = 250;
/** How often a paused worker looks at the control table again (ms). */
export const DEFAULT_CONTROL_POLL_MS = 250;
/** How often a step that obeys its flag says so in `_evolve.step_control_listener` (ms). */
export const CONTROL_HEARTBEAT_MS = 2_000;
/** A listener not heard from for this long no longer counts as obeying (ms). */
export const CONTROL_LISTENER_STALE_MS = 10_000;
/** Name of the table where steps that obey their flag right now say so (`_evolve.step_control_listener`). */
export const STEP_CONTROL_LISTENER_TABLE = 'step_control_listener';

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

/**
 * DDL of the control table and of the listener table, for `DataMigrationStore.ensure`. Idempotent (`IF NOT
 * EXISTS`). A listener row says that something obeying the flag of `step` (the batch engine's workers, or
 * the runner holding a data unit before it starts) read it recently: `controlPlanStep` only accepts a
 * pause or cancel of a running step that something obeys.
 */
export function stepControlDdl(stateSchema: string): string[] {
  return [
    `create table if not exists ${quoteQualified(stateSchema, STEP_CONTROL_TABLE)} (
       step text primary key,
       action text not null check (action in ('pause', 'cancel')),
       requested_by text,
       requested_at timestamptz not null default now())`,
    `create table if not exists ${quoteQualified(stateSchema, STEP_CONTROL_LISTENER_TABLE)} (
       step text primary key,
       holder text not null,
       seen_at timestamptz not null default now())`,
  ];
}

/**
 * Sets (`pause`, `cancel`) or clears (`resume`) the control flag of `step` (a tracking name such as
 * `phase:<phase>/<step>`). One statement, autocommitted by the caller's connection; idempotent. A cancel
 * replaces a pause (paused workers then stop); `resume` clears a pause, and a cancel only with
 * `clearCancel` (the step is not running: nothing will consume it). The table must exist (see
 * {@link stepControlDdl}). Returns the flag now set, if any.
 */
export async function setStepControl(
  client: pg.ClientBase,
  stateSchema: string,
  step: string,
  action: ControlAction | 'resume',
  requestedBy: string,
  options: { clearCancel?: boolean } = {},
): Promise<ControlAction | undefined> {
  const table = quoteQualified(stateSchema, STEP_CONTROL_TABLE);
  if (action === 'resume') {
    await client.query(`delete from ${table} where step = $1 and (action = 'pause' or $2)`, [step, options.clearCancel === true]);
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
 * Removes the cancel flag of `step` only, or with `ancestors` also the flag of every step it belongs to
 * (`a/b` for `a/b/01:unit`): the cancel a run obeyed is consumed by it, so the next `run` goes on. A
 * pause stays. No-op when the table does not exist.
 */
export async function clearStepCancel(client: pg.ClientBase, stateSchema: string, step: string, options: { ancestors?: boolean } = {}): Promise<void> {
  const table = quoteQualified(stateSchema, STEP_CONTROL_TABLE);
  if (!(await relationExists(client, table))) return;
  await client.query(`delete from ${table} where action = 'cancel' and (step = $1 or ($2 and left($1, length(step) + 1) = step || '/'))`, [step, options.ancestors === true]);
}

/**
 * Removes every flag of `step` and of its units (`step/…`), pause or cancel: a step that completed has
 * nothing left to pause or cancel, so a flag that arrived too late must not linger in `status`. No-op when
 * the table does not exist.
 */
export async function clearStepControl(client: pg.ClientBase, stateSchema: string, step: string): Promise<void> {
  const table = quoteQualified(stateSchema, STEP_CONTROL_TABLE);
  if (!(await relationExists(client, table))) return;
  await client.query(`delete from ${table} where step = $1 or left(step, length($1) + 1) = $1 || '/'`, [step]);
}

/**
 * Whether something obeys the flag of `step` right now: a listener on `step` or on one of its units
 * (`step/…`) was heard from within {@link CONTROL_LISTENER_STALE_MS}. Read-only; an absent table reads as no.
 */
export async function isStepControlObeyed(client: pg.ClientBase, stateSchema: string, step: string): Promise<boolean> {
  const table = quoteQualified(stateSchema, STEP_CONTROL_LISTENER_TABLE);
  if (!(await relationExists(client, table))) return false;
  const { rows } = await client.query<{ live: boolean }>(
    `select exists (select 1 from ${table} where (step = $1 or left(step, length($1) + 1) = $1 || '/')
       and seen_at > now() - make_interval(secs => $2)) as live`,
    [step, CONTROL_LISTENER_STALE_MS / 1000],
  );
  return rows[0]?.live === true;
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
 * Every {@link CONTROL_HEARTBEAT_MS} it also upserts its listener row (the step is obeying its flag now);
 * {@link stop} removes it.
 */
export class StepControlReader {
  private cached: { state: ControlState; at: number } | undefined;
  private lastBeat = Number.NEGATIVE_INFINITY;
  private readonly table: string;
  private readonly listeners: string;

  constructor(
    stateSchema: string,
    readonly step: string,
    private readonly cacheMs = DEFAULT_CONTROL_CACHE_MS,
    private readonly holder = `${process.pid}:${Math.random().toString(36).slice(2, 10)}`,
  ) {
    this.table = quoteQualified(stateSchema, STEP_CONTROL_TABLE);
    this.listeners = quoteQualified(stateSchema, STEP_CONTROL_LISTENER_TABLE);
  }

  /** Removes this reader's listener row (the step no longer obeys its flag: it ended). Never throws. */
  async stop(client: pg.ClientBase): Promise<void> {
    if (this.lastBeat === Number.NEGATIVE_INFINITY) return;
    this.lastBeat = Number.NEGATIVE_INFINITY;
    await client.query(`delete from ${this.listeners} where step = $1 and holder = $2`, [this.step, this.holder]).catch(() => undefined);
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
    if (performance.now() - this.lastBeat >= CONTROL_HEARTBEAT_MS) {
      this.lastBeat = performance.now();
      await client
        .query(`insert into ${this.listeners} (step, holder) values ($1, $2) on conflict (step) do update set holder = excluded.holder, seen_at = now()`, [
          this.step,
          this.holder,
        ])
        .catch(() => undefined);
    }
    this.cached = { state, at: performance.now() };
    return state;
  }
}

/**
 * What the runner does before a data unit starts (whatever the unit runs, a custom function included):
 * while the flag of `step` (or of the step it belongs to) is `pause`, it waits, looking again every
 * {@link DEFAULT_CONTROL_POLL_MS} with no transaction open, and is a listener meanwhile (so the pause can be
 * turned into a cancel). Returns `cancel` when a cancel is set (the caller stops the unit before it starts
 * and consumes the flag), else `run`; an aborted `signal` returns `run` (the caller sees the abort itself).
 */
export async function holdForStepControl(client: pg.ClientBase, stateSchema: string, step: string, signal?: AbortSignal): Promise<ControlState> {
  if (!(await relationExists(client, quoteQualified(stateSchema, STEP_CONTROL_LISTENER_TABLE)))) return 'run';
  const reader = new StepControlReader(stateSchema, step, 0);
  try {
    for (;;) {
      const state = await reader.read(client);
      if (state !== 'pause' || signal?.aborted) return state === 'cancel' ? 'cancel' : 'run';
      await sleep(DEFAULT_CONTROL_POLL_MS, signal);
    }
  } finally {
    await reader.stop(client);
  }
}
