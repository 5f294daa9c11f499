/**
 * Seed 003's "Post-Migration Validation", run against the database after the Scholarly plan: record counts,
 * foreign-key orphans (every FK of the schema, counted, not assumed), the unique constraints present and
 * enforced, every index valid, plus each phase's own verify checks (extraction parity among them).
 */
import { withClient, type PhaseCheck, type PhaseRunner } from '@prisma-evolve/core';
import type pg from 'pg';

type Client = pg.Client;

/** One line of the validation report. */
export interface ValidationCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** The report: ok when every check is. */
export interface ValidationReport {
  readonly ok: boolean;
  readonly checks: readonly ValidationCheck[];
}

/** Tables the seed counts; the ones filled from legacy data must not be empty after the plan. */
const COUNTED: readonly { table: string; filled: boolean }[] = [
  { table: 'AuditLog', filled: false },
  { table: 'Subject', filled: true },
  { table: 'Address', filled: true },
  { table: 'TutorAvailabilitySlot', filled: true },
  { table: 'TutorPricingTier', filled: true },
  { table: 'LearningAssetVote', filled: true },
];

/** The unique indexes the plan adds (phase 2, 3, 4, 5 and 7); each must exist, be valid and be unique. */
export const EXPECTED_UNIQUES: readonly string[] = [
  'Subject_tenantId_code_key',
  'Tenant_slug_key',
  'User_email_key',
  'TutorPricingTier_profileId_sessionType_duration_key',
  'LearningAssetVote_requestId_userId_key',
  'Address_homeschoolFamilyId_key',
  'Address_microSchoolId_key',
  'Address_homeschoolCoopId_key',
  'ContentReview_contentId_reviewerId_key',
  'ContentPurchase_contentId_buyerId_key',
  'LearningAssetRequest_tenantId_requesterId_title_key',
  'EduScrumSprint_teamId_sprintNumber_key',
  'NotificationPreference_tenantId_userId_key',
  'FeatureFlag_key_key',
  'TenantConfiguration_tenantId_key',
];

/** Duplicates the plan's unique indexes must now reject (seed 003's "prevents duplicate content reviews"). */
const REJECTED_DUPLICATES: readonly { table: string; key: string }[] = [
  { table: 'ContentReview', key: 'ContentReview_contentId_reviewerId_key' },
  { table: 'ContentPurchase', key: 'ContentPurchase_contentId_buyerId_key' },
  { table: 'LearningAssetRequest', key: 'LearningAssetRequest_tenantId_requesterId_title_key' },
];

/**
 * Runs the seed's validation. Read-only: the duplicate-insert probes run inside a transaction that is
 * always rolled back. Takes only the locks of plain reads (and row locks of the rolled-back inserts).
 */
export async function validateScholarly(databaseUrl: string, runner: PhaseRunner): Promise<ValidationReport> {
  const phaseChecks: PhaseCheck[] = await runner.verify();
  const checks: ValidationCheck[] = phaseChecks.map((c) => ({ name: `${c.phase}: ${c.name}`, ok: c.ok, detail: c.detail }));
  await withClient(databaseUrl, async (client) => {
    for (const { table, filled } of COUNTED) checks.push(await recordCount(client, table, filled));
    checks.push(...(await foreignKeyOrphans(client)));
    checks.push(await uniquesPresent(client));
    for (const probe of REJECTED_DUPLICATES) checks.push(await duplicateRejected(client, probe.table, probe.key));
    checks.push(await indexesValid(client));
  });
  return { ok: checks.length > 0 && checks.every((c) => c.ok), checks };
}

async function recordCount(client: Client, table: string, filled: boolean): Promise<ValidationCheck> {
  const exists = await client.query<{ ok: boolean }>(`select to_regclass($1) is not null as ok`, [`public."${table}"`]);
  if (!exists.rows[0]?.ok) return { name: `record count ${table}`, ok: false, detail: `table "${table}" does not exist` };
  const { rows } = await client.query<{ n: string }>(`select count(*) as n from "${table}"`);
  const n = Number(rows[0]?.n ?? 0);
  return { name: `record count ${table}`, ok: !filled || n > 0, detail: `${n.toLocaleString('en-US')} rows${filled && n === 0 ? ' (expected rows from the legacy data)' : ''}` };
}

/** Every foreign key of the public schema: validated, and its orphans counted by an anti-join. */
async function foreignKeyOrphans(client: Client): Promise<ValidationCheck[]> {
  const { rows } = await client.query<{ name: string; child: string; parent: string; pairs: { c: string; p: string }[]; validated: boolean }>(
    `select con.conname as name, format('%I.%I', cn.nspname, c.relname) as child, format('%I.%I', pn.nspname, p.relname) as parent,
            con.convalidated as validated,
            (select json_agg(json_build_object('c', ca.attname, 'p', pa.attname) order by k.ord)
               from unnest(con.conkey, con.confkey) with ordinality as k(ck, pk, ord)
               join pg_attribute ca on ca.attrelid = con.conrelid and ca.attnum = k.ck
               join pg_attribute pa on pa.attrelid = con.confrelid and pa.attnum = k.pk) as pairs
       from pg_constraint con
       join pg_class c on c.oid = con.conrelid join pg_namespace cn on cn.oid = c.relnamespace
       join pg_class p on p.oid = con.confrelid join pg_namespace pn on pn.oid = p.relnamespace
      where con.contype = 'f' and cn.nspname = 'public'
      order by con.conname`,
  );
  const checks: ValidationCheck[] = [];
  for (const fk of rows) {
    const ident = (name: string): string => `"${name.replace(/"/g, '""')}"`;
    const present = fk.pairs.map((pair) => `ch.${ident(pair.c)} IS NOT NULL`).join(' AND ');
    const join = fk.pairs.map((pair) => `pa.${ident(pair.p)} = ch.${ident(pair.c)}`).join(' AND ');
    const orphans = await client.query<{ n: string }>(`select count(*) as n from ${fk.child} ch where ${present} and not exists (select 1 from ${fk.parent} pa where ${join})`);
    const n = Number(orphans.rows[0]?.n ?? 0);
    checks.push({ name: `fk orphans ${fk.name}`, ok: n === 0 && fk.validated, detail: `${n} orphans; constraint ${fk.validated ? 'validated' : 'NOT VALID'}` });
  }
  return checks;
}

async function uniquesPresent(client: Client): Promise<ValidationCheck> {
  const { rows } = await client.query<{ name: string }>(
    `select c.relname as name from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and i.indisunique and i.indisvalid and c.relname = any($1)`,
    [EXPECTED_UNIQUES],
  );
  const found = new Set(rows.map((r) => r.name));
  const missing = EXPECTED_UNIQUES.filter((name) => !found.has(name));
  return { name: 'unique constraints present', ok: missing.length === 0, detail: missing.length === 0 ? `${found.size} of ${EXPECTED_UNIQUES.length} unique indexes present and valid` : `missing or invalid: ${missing.join(', ')}` };
}

/** Re-inserts an existing row under a new id inside a rolled-back transaction: the unique index must refuse it. */
async function duplicateRejected(client: Client, table: string, key: string): Promise<ValidationCheck> {
  const name = `duplicate ${table} rejected`;
  await client.query('BEGIN');
  try {
    const inserted = await client.query(
      `insert into "${table}" select (jsonb_populate_record(null::"${table}", to_jsonb(r) || jsonb_build_object('id', r.id || '-duplicate-probe'))).* from "${table}" r limit 1`,
    );
    return inserted.rowCount === 0
      ? { name, ok: false, detail: `"${table}" is empty: no row to duplicate, so "${key}" could not be probed` }
      : { name, ok: false, detail: `a duplicate row was accepted: "${key}" does not enforce uniqueness` };
  } catch (error) {
    const e = error as { code?: string; constraint?: string; message?: string };
    if (e.code === '23505' && e.constraint === key) return { name, ok: true, detail: `refused by "${key}"` };
    return { name, ok: false, detail: e.code === '23505' ? `refused by "${e.constraint}", not by "${key}"` : `probe failed: ${e.message ?? String(error)}` };
  } finally {
    await client.query('ROLLBACK');
  }
}

async function indexesValid(client: Client): Promise<ValidationCheck> {
  const { rows } = await client.query<{ total: string; invalid: string[] | null }>(
    `select count(*) as total, array_agg(c.relname order by c.relname) filter (where not (i.indisvalid and i.indisready)) as invalid
       from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'`,
  );
  const invalid = rows[0]?.invalid ?? [];
  return { name: 'indexes valid', ok: invalid.length === 0, detail: invalid.length === 0 ? `${rows[0]?.total} indexes, all valid` : `INVALID: ${invalid.join(', ')}` };
}
