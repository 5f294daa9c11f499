import type pg from 'pg';
import { BackfillSpecChangedError } from '../errors.js';
import { relationExists } from '../db/table-catalog.js';
import { quoteQualified } from '../sql.js';
import { keyColumnList, keyOrder, keyRangePredicate, keyTextOf, keyTextSelect, type KeyColumn, type KeyText } from './keyset-sql.js';

/** Keys per claimable range: the unit parallel workers share out and a crashed worker's share is reclaimed in. */
export const DEFAULT_RANGE_ROWS = 50_000;
/** How long a claim stays valid without a checkpoint before any worker may take it over. */
export const DEFAULT_LEASE_MS = 120_000;

/** The identity of one worker: its dedicated connection's backend, which dies with the worker. */
export interface WorkerIdentity {
  readonly pid: number;
  readonly backendStart: string;
  readonly label: string;
}

/** A range of keys `(lo, hi]` (a missing bound is open) claimed by one worker, with its checkpoint. */
export interface ClaimedRange {
  readonly rangeNo: number;
  readonly lo: KeyText | null;
  readonly hi: KeyText | null;
  /** Last key whose batch committed; `null` when nothing in the range is done yet. */
  readonly cursor: KeyText | null;
}

/** What a claim attempt found. */
export type ClaimOutcome =
  | { readonly kind: 'claimed'; readonly range: ClaimedRange }
  /** Every range is claimed by live workers: poll again later (a dead worker's range becomes claimable). */
  | { readonly kind: 'wait' }
  /** Every range of the table is done. */
  | { readonly kind: 'finished' };

/** The result of checkpointing one batch. */
export interface CheckpointResult {
  /** False when this worker no longer owns the range (its lease lapsed and another took it): roll back. */
  readonly owned: boolean;
}

/** Reads the identity (`pg_backend_pid()`, `backend_start`) of the connection a worker holds. */
export async function readWorkerIdentity(client: pg.ClientBase, label: string): Promise<WorkerIdentity> {
  const { rows } = await client.query<{ pid: number; started: string }>(
    `select pg_backend_pid() as pid, backend_start::text as started from pg_stat_activity where pid = pg_backend_pid()`,
  );
  const row = rows[0];
  if (!row) throw new Error('pg_stat_activity does not show the current backend');
  return { pid: row.pid, backendStart: row.started, label };
}

/**
 * The claims table of one backfill: key ranges created lazily by walking the key's index (so no range
 * boundaries are computed up front and rows inserted past the end are still covered by the last, open
 * range), claimed with `FOR UPDATE SKIP LOCKED`, each holding the checkpoint of its worker. A range whose
 * owner's backend is gone (process killed, connection lost) or whose lease lapsed is claimable again and
 * resumes from its checkpoint. Workers in one process or in many share it through the database. (A role
 * that cannot see other roles' `backend_start` compares by pid alone; the lease still bounds the rest.)
 */
export class RangeClaims {
  readonly stateTable: string;
  readonly rangeTable: string;

  constructor(
    stateSchema: string,
    private readonly migration: string,
    private readonly table: string,
    private readonly key: readonly KeyColumn[],
    private readonly options: { readonly rangeRows: number; readonly leaseMs: number },
  ) {
    this.stateTable = quoteQualified(stateSchema, 'backfill_state');
    this.rangeTable = quoteQualified(stateSchema, 'backfill_range');
  }

  /** DDL of the state tables, for `DataMigrationStore.ensure`. Idempotent (`IF NOT EXISTS`). */
  static ddl(stateSchema: string): string[] {
    const state = quoteQualified(stateSchema, 'backfill_state');
    const range = quoteQualified(stateSchema, 'backfill_range');
    return [
      `create table if not exists ${state} (
         migration text primary key,
         spec_hash text not null,
         frontier jsonb,
         exhausted boolean not null default false,
         next_range int not null default 0,
         created_at timestamptz not null default now())`,
      `create table if not exists ${range} (
         migration text not null references ${state} (migration) on delete cascade,
         range_no int not null,
         lo jsonb,
         hi jsonb,
         cursor jsonb,
         status text not null check (status in ('pending', 'running', 'done')),
         owner_pid int,
         owner_started text,
         owner_label text,
         lease_until timestamptz,
         scanned bigint not null default 0,
         updated bigint not null default 0,
         updated_at timestamptz not null default now(),
         primary key (migration, range_no))`,
    ];
  }

  /**
   * Registers the backfill, or checks that existing checkpoints belong to the same spec. With `restart`,
   * deletes earlier checkpoints first. Returns whether earlier progress exists. Throws
   * `BackfillSpecChangedError` when the spec changed and `restart` is not set.
   */
  async register(client: pg.ClientBase, specHash: string, restart: boolean): Promise<{ resumed: boolean }> {
    if (restart) await client.query(`delete from ${this.stateTable} where migration = $1`, [this.migration]);
    const inserted = await client.query(
      `insert into ${this.stateTable} (migration, spec_hash) values ($1, $2) on conflict (migration) do nothing`,
      [this.migration, specHash],
    );
    if (inserted.rowCount === 1) return { resumed: false };
    const { rows } = await client.query<{ spec_hash: string }>(`select spec_hash from ${this.stateTable} where migration = $1`, [
      this.migration,
    ]);
    if (rows[0]?.spec_hash !== specHash) throw new BackfillSpecChangedError(this.migration);
    return { resumed: true };
  }

  /**
   * Starts the key space over for a final sweep, in ONE transaction with the state row locked: the frontier
   * goes back to the start and every range is forgotten. Refuses (returns false, changing nothing) while
   * another worker still holds a live range, so a sweep never pulls ranges from under a running process;
   * a later run can sweep then.
   */
  async resetForSweep(client: pg.ClientBase): Promise<boolean> {
    await client.query('begin');
    try {
      await client.query(`select 1 from ${this.stateTable} where migration = $1 for update`, [this.migration]);
      const { rows } = await client.query<{ live: number }>(
        `select count(*)::int as live from ${this.rangeTable} where migration = $1 and status = 'running' and lease_until > now()`,
        [this.migration],
      );
      if ((rows[0]?.live ?? 0) > 0) {
        await client.query('rollback');
        return false;
      }
      await client.query(`delete from ${this.rangeTable} where migration = $1`, [this.migration]);
      await client.query(`update ${this.stateTable} set frontier = null, exhausted = false, next_range = 0 where migration = $1`, [this.migration]);
      await client.query('commit');
      return true;
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    }
  }

  /**
   * Claims the next range for `worker`: first a released or orphaned one (lowest number first, skipping
   * ranges other workers are claiming right now), else a new one cut from the frontier by reading
   * `rangeRows` keys of the key's index. Runs in its own short transaction with the given `lock_timeout`
   * and `statement_timeout`; takes row locks on the claims tables only and an ACCESS SHARE lock on the
   * application table while it reads keys.
   */
  async claim(client: pg.ClientBase, worker: WorkerIdentity, timeouts: { lockMs: number; statementMs: number }): Promise<ClaimOutcome> {
    await client.query(
      `begin; set local lock_timeout = ${Math.round(timeouts.lockMs)}; set local statement_timeout = ${Math.round(timeouts.statementMs)}`,
    );
    try {
      const outcome = await this.claimInTransaction(client, worker);
      await client.query('commit');
      return outcome;
    } catch (error) {
      await client.query('rollback');
      throw error;
    }
  }

  private async claimInTransaction(client: pg.ClientBase, worker: WorkerIdentity): Promise<ClaimOutcome> {
    const orphan = await client.query<{ range_no: number; lo: KeyText | null; hi: KeyText | null; cursor: KeyText | null }>(
      `select r.range_no, r.lo, r.hi, r.cursor from ${this.rangeTable} r
       where r.migration = $1 and r.status <> 'done'
         and (r.status = 'pending' or r.lease_until < now()
              or not exists (select 1 from pg_stat_activity a where a.pid = r.owner_pid
                             and (a.backend_start is null or a.backend_start::text = r.owner_started)))
       order by r.range_no limit 1 for update skip locked`,
      [this.migration],
    );
    const found = orphan.rows[0];
    if (found) {
      await this.takeOver(client, found.range_no, worker);
      return { kind: 'claimed', range: { rangeNo: found.range_no, lo: found.lo, hi: found.hi, cursor: found.cursor } };
    }
    const { rows: states } = await client.query<{ frontier: KeyText | null; exhausted: boolean; next_range: number }>(
      `select frontier, exhausted, next_range from ${this.stateTable} where migration = $1 for update`,
      [this.migration],
    );
    const state = states[0];
    if (!state) throw new Error(`backfill state of "${this.migration}" is missing; was it restarted by another process?`);
    if (state.exhausted) {
      const { rows } = await client.query<{ open: number }>(
        `select count(*)::int as open from ${this.rangeTable} where migration = $1 and status <> 'done'`,
        [this.migration],
      );
      return (rows[0]?.open ?? 0) > 0 ? { kind: 'wait' } : { kind: 'finished' };
    }
    const params: unknown[] = [];
    const after = keyRangePredicate('t', this.key, state.frontier, null, params);
    params.push(this.options.rangeRows);
    const { rows: probe } = await client.query(
      `select ${keyTextSelect('s', this.key)}, count(*) over () as n
       from (select ${keyColumnList('t', this.key)} from ${this.table} t where ${after}
             order by ${keyOrder('t', this.key, 'asc')} limit $${params.length}) s
       order by ${keyOrder('s', this.key, 'desc')} limit 1`,
      params,
    );
    const last = probe[0];
    const full = last !== undefined && Number(last['n']) >= this.options.rangeRows;
    const hi = full ? keyTextOf(last, this.key) : null;
    const range: ClaimedRange = { rangeNo: state.next_range, lo: state.frontier, hi, cursor: null };
    await client.query(
      `insert into ${this.rangeTable} (migration, range_no, lo, hi, status, owner_pid, owner_started, owner_label, lease_until)
       values ($1, $2, $3, $4, 'running', $5, $6, $7, now() + make_interval(secs => $8))`,
      [
        this.migration,
        range.rangeNo,
        json(range.lo),
        json(hi),
        worker.pid,
        worker.backendStart,
        worker.label,
        this.options.leaseMs / 1000,
      ],
    );
    await client.query(
      `update ${this.stateTable} set frontier = $2, exhausted = $3, next_range = next_range + 1 where migration = $1`,
      [this.migration, json(hi), !full],
    );
    return { kind: 'claimed', range };
  }

  private async takeOver(client: pg.ClientBase, rangeNo: number, worker: WorkerIdentity): Promise<void> {
    await client.query(
      `update ${this.rangeTable} set status = 'running', owner_pid = $3, owner_started = $4, owner_label = $5,
         lease_until = now() + make_interval(secs => $6), updated_at = now()
       where migration = $1 and range_no = $2`,
      [this.migration, rangeNo, worker.pid, worker.backendStart, worker.label, this.options.leaseMs / 1000],
    );
  }

  /**
   * Records a committed batch: moves the range's cursor, adds to its counters, renews the lease and marks it
   * done when `done`. Must run inside the batch's transaction so work and checkpoint commit together;
   * matches the owner (fencing), so a worker whose range was taken over cannot commit over the new owner.
   */
  async checkpoint(
    client: pg.ClientBase,
    rangeNo: number,
    worker: WorkerIdentity,
    progress: { cursor: KeyText | null; scanned: number; updated: number; done: boolean },
  ): Promise<CheckpointResult> {
    const result = await client.query(
      `update ${this.rangeTable} set cursor = coalesce($5::jsonb, cursor), scanned = scanned + $6, updated = updated + $7,
         status = case when $8 then 'done' else status end,
         lease_until = now() + make_interval(secs => $9), updated_at = now()
       where migration = $1 and range_no = $2 and owner_pid = $3 and owner_started = $4`,
      [
        this.migration,
        rangeNo,
        worker.pid,
        worker.backendStart,
        json(progress.cursor),
        progress.scanned,
        progress.updated,
        progress.done,
        this.options.leaseMs / 1000,
      ],
    );
    return { owned: result.rowCount === 1 };
  }

  /** Hands a range back (status `pending`, no owner) so any worker resumes it from its checkpoint. */
  async release(client: pg.ClientBase, rangeNo: number, worker: WorkerIdentity): Promise<void> {
    await client.query(
      `update ${this.rangeTable} set status = 'pending', owner_pid = null, owner_started = null, owner_label = null,
         lease_until = null, updated_at = now()
       where migration = $1 and range_no = $2 and owner_pid = $3 and owner_started = $4 and status = 'running'`,
      [this.migration, rangeNo, worker.pid, worker.backendStart],
    );
  }

  /** Totals over all ranges (for the result summary). Read-only. */
  async totals(client: pg.ClientBase): Promise<{ ranges: number; scanned: number; updated: number }> {
    const { rows } = await client.query<{ ranges: number; scanned: string; updated: string }>(
      `select count(*)::int as ranges, coalesce(sum(scanned), 0)::text as scanned, coalesce(sum(updated), 0)::text as updated
       from ${this.rangeTable} where migration = $1`,
      [this.migration],
    );
    const row = rows[0];
    return { ranges: row?.ranges ?? 0, scanned: Number(row?.scanned ?? 0), updated: Number(row?.updated ?? 0) };
  }
}

function json(value: KeyText | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

/**
 * Deletes the checkpoints and range claims of the backfill named `row` and of those under it (`row/…`; a
 * name that merely starts with the same text is not touched): a rollback or a restart makes them meaningless,
 * the next run must walk the table again. Idempotent.
 */
export async function discardCheckpoints(client: pg.ClientBase, stateSchema: string, row: string): Promise<void> {
  if (!(await relationExists(client, quoteQualified(stateSchema, 'backfill_state')))) return;
  await client.query(`delete from ${quoteQualified(stateSchema, 'backfill_state')} where migration = $1 or left(migration, length($1) + 1) = $1 || '/'`, [row]);
}
