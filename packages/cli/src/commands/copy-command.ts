import path from 'node:path';
import {
  catchUpCopy,
  readCopyStatus,
  runCopy,
  setSequencesPastMaxima,
  setSourceReadOnly,
  UsageError,
  validateCopy,
  withClient,
  withRunnerLease,
  type CatchUpReport,
  type CopyPlan,
  type CopyTableReport,
  type CopyValidation,
} from '@prisma-evolve/core';
import type { Command, CommandContext } from '../command.js';
import { DEFAULT_COPY, loadCopy } from '../plan-loader.js';
import { ProgressBar } from '../progress-bar.js';

/** A positive whole number from a flag, or the fallback; anything else is a usage error naming the flag. */
function positive(context: CommandContext, flag: 'batch-size' | 'workers' | 'phase'): number | undefined {
  const value = context.flags[flag];
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--${flag} "${value}": expected a positive whole number`, `--${flag}`);
  return Number(value);
}

interface Resolved {
  readonly copy: CopyPlan;
  readonly sourceUrl: string;
  readonly targetUrl: string;
}

/** The copy plan and both databases: flags first, then the plan's own, then the environment. */
async function resolve(context: CommandContext): Promise<Resolved> {
  const file = context.flags.copy ? path.resolve(context.cwd, context.flags.copy) : path.join(path.dirname((await context.project()).planPath), path.basename(DEFAULT_COPY));
  const copy = await loadCopy(file);
  const sourceUrl = context.flags['source-url'] ?? copy.source ?? process.env['SOURCE_DATABASE_URL'];
  if (!sourceUrl) throw new UsageError('no source database: pass --source-url, set source in the copy, or set SOURCE_DATABASE_URL', '--source-url');
  const targetUrl = context.flags['database-url'] ?? copy.target ?? (await context.databaseUrl());
  return { copy, sourceUrl, targetUrl };
}

function tablesText(tables: readonly CopyTableReport[]): string {
  return tables
    .map((t) => `  ${t.name.padEnd(24)} ${t.status.padEnd(16)} source ${t.sourceRows ?? '?'}  copied ${t.copiedRows}  dead letters ${t.deadLetters}  collapsed ${t.collapsed}`)
    .join('\n');
}

function validationText(validation: CopyValidation): string {
  return `validation ${validation.ok ? 'ok' : 'FAILED'}\n${validation.checks.map((c) => `  ${c.ok ? 'ok  ' : 'FAIL'} ${c.name}: ${c.detail}`).join('\n')}`;
}

async function run(context: CommandContext, resolved: Resolved, started: number): Promise<number> {
  const bars = new Map<string, ProgressBar>();
  const entries = context.flags.table;
  const phase = positive(context, 'phase');
  let result: { tables: CopyTableReport[] };
  try {
    result = await withRunnerLease(resolved.targetUrl, { command: 'copy run', waitMs: context.leaseWaitMs() }, () =>
      runCopy(resolved.copy, {
        sourceUrl: resolved.sourceUrl,
        targetUrl: resolved.targetUrl,
        ...(entries ? { entries } : {}),
        ...(phase === undefined ? {} : { phase }),
        ...(positive(context, 'batch-size') === undefined ? {} : { batchSize: positive(context, 'batch-size') }),
        workers: positive(context, 'workers') ?? 1,
        signal: context.signal,
        onProgress: (p) => {
          if (context.flags.json) return;
          let bar = bars.get(p.entry);
          if (!bar) bars.set(p.entry, (bar = new ProgressBar(`copy ${p.entry}`)));
          bar.update(p.rows);
        },
      }),
    );
  } finally {
    for (const bar of bars.values()) bar.done();
  }
  const finished = result.tables.every((t) => t.status === 'done' || t.status === 'already-complete');
  const validation = finished ? await validateCopy(resolved.copy, { sourceUrl: resolved.sourceUrl, targetUrl: resolved.targetUrl, entries: result.tables.map((t) => t.name) }) : { ok: false, checks: [{ name: 'copy', ok: false, detail: 'not every table finished (canceled): run again to continue' }] };
  const seconds = Math.round((performance.now() - started) / 10) / 100;
  context.print({ tables: result.tables, validation, seconds }, `${tablesText(result.tables)}\n${validationText(validation)}\n${seconds} s`);
  return validation.ok ? 0 : 1;
}

function catchUpText(tables: readonly CatchUpReport[]): string {
  return tables.map((t) => `  ${t.name.padEnd(24)} ${(t.status === 'canceled' ? 'CANCELED' : t.mode).padEnd(14)} ${t.detail}${t.deadLetters ? `; dead letters ${t.deadLetters > 0 ? '+' : ''}${t.deadLetters}` : ''}${t.collapsed ? `; collapsed +${t.collapsed}` : ''}`).join('\n');
}

/** `copy catch-up`: the rows written in the source since the copy read them, under the runner lease. */
async function catchUp(context: CommandContext, resolved: Resolved, seconds: () => number): Promise<number> {
  const entries = context.flags.table;
  const phase = positive(context, 'phase');
  const result = await withRunnerLease(resolved.targetUrl, { command: 'copy catch-up', waitMs: context.leaseWaitMs() }, () =>
    catchUpCopy(resolved.copy, { sourceUrl: resolved.sourceUrl, targetUrl: resolved.targetUrl, ...(entries ? { entries } : {}), ...(phase === undefined ? {} : { phase }), signal: context.signal }),
  );
  const { tables } = await readCopyStatus(resolved.copy, resolved.targetUrl);
  const hidden = result.hiddenSessions > 0 ? `\nwarning: ${result.hiddenSessions} sessions of the source database are hidden from this role (no pg_read_all_stats): a transaction of theirs open at the snapshot is covered only by the margin` : '';
  context.print({ tables, catchUp: result.tables, hiddenSessions: result.hiddenSessions, validation: null, seconds: seconds() }, `${catchUpText(result.tables)}${hidden}\n(copy validate compares the databases)`);
  // Loud: a canceled run, or rows that could not be applied, is not a finished catch-up.
  return result.tables.some((t) => t.status === 'canceled' || t.conflicts > 0) ? 1 : 0;
}

/**
 * `copy run|status|validate|cutover|catch-up`: the legacy copy of the plan in `--copy` (default prisma/evolve.copy.ts).
 * `run` copies (resumable; one runner per target database) and validates what it copied; `validate` exits 1
 * on any difference; `cutover` validates, then sets sequences past the copied maxima, and with `--read-only`
 * opens the source's read-only window; `cutover --read-write` only closes the window; `catch-up` brings over the
 * rows written in the source since the copy read them (the final switch: `cutover --read-only`, `catch-up`,
 * `validate`, then `cutover` for the sequences).
 */
export const copy: Command = {
  name: 'copy',
  synopsis: 'run | status | validate | cutover | catch-up',
  summary: 'copy a legacy database into this one: resumable, with id remapping, dead letters and validation',
  flags: ['copy', 'prisma-config', 'database-url', 'source-url', 'table', 'phase', 'batch-size', 'workers', 'read-only', 'read-write', 'force', 'json', 'wait'],
  async run(context) {
    const [action] = context.args;
    if (!['run', 'status', 'validate', 'cutover', 'catch-up'].includes(action ?? '')) throw new UsageError(`copy: expected run, status, validate, cutover or catch-up${action ? `, got "${action}"` : ''}`);
    const started = performance.now();
    const resolved = await resolve(context);
    const seconds = (): number => Math.round((performance.now() - started) / 10) / 100;
    if (action === 'run') return run(context, resolved, started);
    if (action === 'catch-up') return catchUp(context, resolved, seconds);
    if (action === 'status') {
      const status = await readCopyStatus(resolved.copy, resolved.targetUrl);
      const reasons = status.deadLetterReasons.map((r) => `  ${r.entry}: ${r.rows} × ${r.reason}`).join('\n');
      const conflicts = status.conflicts.map((c) => `  ${c.entry} ${c.sourceKey}: ${c.reason}`).join('\n');
      const text = `${tablesText(status.tables)}${reasons ? `\ndead letters by reason:\n${reasons}` : ''}${conflicts ? `\ncatch-up conflicts (rows kept as they were):\n${conflicts}` : ''}`;
      context.print({ tables: status.tables, deadLetterReasons: status.deadLetterReasons, conflicts: status.conflicts, validation: null, seconds: seconds() }, text);
      return 0;
    }
    if (action === 'cutover' && context.flags['read-write']) {
      if (context.flags['read-only']) throw new UsageError('copy cutover: --read-only and --read-write exclude each other', '--read-only');
      // The way back needs no validation and moves no sequence: it only restores the source's own setting.
      const window = await setSourceReadOnly(resolved.copy, { sourceUrl: resolved.sourceUrl, targetUrl: resolved.targetUrl, readOnly: false });
      context.print({ readOnly: window, seconds: seconds() }, `source database "${window.database}" is ${window.readOnly ? 'still read-only (its own setting before the window)' : 'writable again'}`);
      return 0;
    }
    const validation = await validateCopy(resolved.copy, { sourceUrl: resolved.sourceUrl, targetUrl: resolved.targetUrl, ...(context.flags.table ? { entries: context.flags.table } : {}) });
    const { tables } = await readCopyStatus(resolved.copy, resolved.targetUrl);
    if (action === 'validate') {
      context.print({ tables, validation, seconds: seconds() }, validationText(validation));
      return validation.ok ? 0 : 1;
    }
    if (!validation.ok && !context.flags.force) {
      context.print({ tables, validation, seconds: seconds() }, `${validationText(validation)}\ncutover refused: validation failed (--force to set the sequences anyway)`);
      return 1;
    }
    const sequences = await withClient(resolved.targetUrl, (client) => setSequencesPastMaxima(client, resolved.copy));
    const readOnly = context.flags['read-only'] ? await setSourceReadOnly(resolved.copy, { sourceUrl: resolved.sourceUrl, targetUrl: resolved.targetUrl, readOnly: true }) : undefined;
    const text = [
      validationText(validation),
      ...sequences.map((s) => `sequence ${s.sequence} (${s.table}.${s.column}): next value ${s.next}`),
      ...(readOnly ? [`source database "${readOnly.database}" is ${readOnly.readOnly ? 'read-only for new sessions (copy cutover --read-write restores it)' : 'writable again'}`] : []),
    ];
    context.print({ tables, validation, sequences, readOnly: readOnly ?? null, seconds: seconds() }, text.join('\n'));
    return 0;
  },
};
