import pg from 'pg';
import { listTables, quoteIdent } from '@prisma-evolve/core';
import { DEFECT_KINDS, type DefectKind, type ShapeCounts } from './legacy-generator.js';

/** What the legacy database holds, found by querying it (never by trusting the generator). */
export interface LegacyCensus {
  readonly database: string;
  readonly serverVersion: string;
  readonly tables: ReadonlyArray<{ readonly table: string; readonly rows: number }>;
  readonly totalRows: number;
  readonly shapes: ShapeCounts;
  readonly defects: Record<DefectKind, number>;
  /** Distinct (tenant, subject code) pairs as written vs after trimming spaces and upper-casing. */
  readonly subjectCodes: { readonly raw: number; readonly normalized: number };
}

// A slot is valid when its day resolves to 0-6 (number, `dayOfWeek`, or an English day name in any
// case, short or long) and both times are HH:MM under either key spelling.
const SLOT_IS_VALID = `
  jsonb_typeof(s) = 'object'
  and case when jsonb_typeof(coalesce(s->'day', s->'dayOfWeek')) = 'number'
           then (coalesce(s->'day', s->'dayOfWeek'))::text::numeric in (0, 1, 2, 3, 4, 5, 6)
           else coalesce(lower(s->>'day') in ('sun','mon','tue','wed','thu','fri','sat',
                                              'sunday','monday','tuesday','wednesday','thursday','friday','saturday'), false) end
  and coalesce(s->>'start', s->>'startTime') ~ '^[0-2][0-9]:[0-5][0-9]$'
  and coalesce(s->>'end', s->>'endTime') ~ '^[0-2][0-9]:[0-5][0-9]$'`;

const AVAILABILITY_DOCS = `
  select id, availability as doc,
    case when availability is null then 'null'
         when jsonb_typeof(availability) = 'null' then 'json null'
         when jsonb_typeof(availability) = 'array' then 'bare array'
         when jsonb_typeof(availability) = 'object' and availability ? 'slots' then '{slots}'
         when jsonb_typeof(availability) = 'object' and availability ? 'weekly' then '{weekly}'
         else 'unrecognized' end as shape
  from "TutorProfile"`;

const LOCATION_DOCS = (table: string): string => `
  select location as doc,
    case when location is null then 'null'
         when jsonb_typeof(location) <> 'object' then 'not an object'
         when location ? 'lat' or location ? 'lng' then 'lat/lng'
         when location ? 'latitude' or location ? 'longitude' then 'latitude/longitude'
         else 'no coordinates' end as shape
  from ${quoteIdent(table)}`;

const LOCATED_TABLES = ['HomeschoolFamily', 'MicroSchool', 'HomeschoolCoop'] as const;

const VOTE_ELEMENTS = `
  select r.id, r."tenantId", e,
    case when jsonb_typeof(e) = 'object' and e ? 'userId' then 'userId'
         when jsonb_typeof(e) = 'object' and e ? 'user_id' then 'user_id'
         when jsonb_typeof(e) = 'object' and e ? 'id' then 'id'
         else 'no user key' end as key,
    case when jsonb_typeof(e) = 'object' then coalesce(e->>'userId', e->>'user_id', e->>'id') end as user_id
  from "LearningAssetRequest" r, jsonb_array_elements(case when jsonb_typeof(r.votes) = 'array' then r.votes else '[]'::jsonb end) e`;

const excessRows = (table: string, columns: readonly string[]): string => `
  select coalesce(sum(n - 1), 0) from (select count(*) n from ${quoteIdent(table)} group by ${columns.map(quoteIdent).join(', ')} having count(*) > 1) g`;

const orphanRows = (table: string, column: string): string => `
  select count(*) from ${quoteIdent(table)} t where not exists (select 1 from "User" u where u.id = t.${quoteIdent(column)})`;

const SUBJECT_CODES = `
  select "tenantId", "subjectId" as code from "Booking" where "subjectId" is not null
  union all select "tenantId", "subjectId" from "TutoringSession" where "subjectId" is not null`;

const DEFECT_QUERIES: Record<DefectKind, string> = {
  malformedAvailability: `
    select count(*) from (
      select d.shape, case d.shape when 'bare array' then d.doc when '{slots}' then d.doc -> 'slots'
                                   when '{weekly}' then d.doc -> 'weekly' end as list
      from (${AVAILABILITY_DOCS}) d) d
    where d.shape = 'unrecognized'
       or (d.list is not null and jsonb_typeof(d.list) <> 'array')
       or exists (select 1 from jsonb_array_elements(case when jsonb_typeof(d.list) = 'array' then d.list else '[]'::jsonb end) s
                  where not coalesce(${SLOT_IS_VALID}, false))`,
  malformedLocation: LOCATED_TABLES.map(
    (table) => `select count(*) from (${LOCATION_DOCS(table)}) d
      where d.shape = 'not an object'
         or (d.shape <> 'null' and jsonb_typeof(coalesce(d.doc->'lat', d.doc->'latitude')) is distinct from 'number'
             and coalesce(d.doc->'lat', d.doc->'latitude') is not null)`,
  ).join(' union all '),
  malformedVotes: `select count(*) from (${VOTE_ELEMENTS}) v where v.key = 'no user key'`,
  subjectSpellingVariants: `select count(*) from (${SUBJECT_CODES}) c where c.code <> upper(regexp_replace(c.code, '\\s+', '', 'g'))`,
  duplicateReviews: excessRows('ContentReview', ['contentId', 'reviewerId']),
  duplicatePurchases: excessRows('ContentPurchase', ['contentId', 'buyerId']),
  duplicateAssetRequests: excessRows('LearningAssetRequest', ['tenantId', 'requesterId', 'title']),
  duplicateVotes: `select coalesce(sum(n - d), 0) from (select count(user_id) n, count(distinct user_id) d from (${VOTE_ELEMENTS}) v group by v.id) g`,
  orphanReviewers: orphanRows('ContentReview', 'reviewerId'),
  orphanBuyers: orphanRows('ContentPurchase', 'buyerId'),
  orphanRequesters: orphanRows('LearningAssetRequest', 'requesterId'),
  orphanAbsenceTeachers: orphanRows('TeacherAbsence', 'teacherId'),
  orphanVoteUsers: `select count(*) from (${VOTE_ELEMENTS}) v where v.user_id is not null and not exists (select 1 from "User" u where u.id = v.user_id)`,
};

async function scalar(client: pg.ClientBase, sql: string): Promise<number> {
  const { rows } = await client.query<Record<string, string>>(`select sum(x)::bigint as total from (${sql}) as parts(x)`);
  return Number(rows[0]?.['total'] ?? 0);
}

async function distribution(client: pg.ClientBase, sql: string): Promise<Record<string, number>> {
  const { rows } = await client.query<{ label: string; n: string }>(`select label, count(*) as n from (${sql}) s(label) group by label order by label`);
  return Object.fromEntries(rows.map((row) => [row.label, Number(row.n)]));
}

/**
 * Counts what the legacy database holds: exact rows per table of the `public` schema, the shape of
 * every JSON document, and every defect kind, each by a query of its own. Read-only: plain SELECTs
 * (ACCESS SHARE locks only) in one repeatable-read snapshot, so the figures agree with each other.
 */
export async function takeLegacyCensus(databaseUrl: string): Promise<LegacyCensus> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query('begin isolation level repeatable read read only');
    const meta = await client.query<{ db: string; version: string }>("select current_database() as db, current_setting('server_version') as version");
    const tables = [];
    for (const table of await listTables(client, 'public')) {
      if (table !== '_prisma_migrations') tables.push({ table, rows: await scalar(client, `select count(*) from ${quoteIdent(table)}`) });
    }
    const defects = {} as Record<DefectKind, number>;
    for (const kind of DEFECT_KINDS) defects[kind] = await scalar(client, DEFECT_QUERIES[kind]);
    const locations = LOCATED_TABLES.map((table) => `select shape from (${LOCATION_DOCS(table)}) d`).join(' union all ');
    const shapes = {
      availability: await distribution(client, `select shape from (${AVAILABILITY_DOCS}) d`),
      pricing: await distribution(
        client,
        `select case when pricing is null then 'null' when jsonb_typeof(pricing) = 'array' then 'bare array'
                     when pricing ? 'tiers' then '{tiers}' when pricing ? 'hourlyRate' then '{hourlyRate}' else 'unrecognized' end
         from "TutorProfile"`,
      ),
      location: await distribution(client, locations),
      voteKeys: await distribution(client, `select key from (${VOTE_ELEMENTS}) v`),
    };
    const codes = await client.query<{ raw: string; normalized: string }>(
      `select count(distinct ("tenantId", code)) as raw, count(distinct ("tenantId", upper(regexp_replace(code, '\\s+', '', 'g')))) as normalized from (${SUBJECT_CODES}) c`,
    );
    await client.query('commit');
    return {
      database: meta.rows[0]!.db,
      serverVersion: meta.rows[0]!.version,
      tables,
      totalRows: tables.reduce((sum, table) => sum + table.rows, 0),
      shapes,
      defects,
      subjectCodes: { raw: Number(codes.rows[0]?.raw), normalized: Number(codes.rows[0]?.normalized) },
    };
  } finally {
    await client.end();
  }
}

const DEFECT_LABELS: Record<DefectKind, string> = {
  malformedAvailability: 'availability documents no known shape can read',
  malformedLocation: 'location documents without usable coordinates',
  malformedVotes: 'vote elements without a user key',
  subjectSpellingVariants: 'subject codes with case/spacing variants',
  duplicateReviews: 'duplicate reviews (same content, reviewer)',
  duplicatePurchases: 'duplicate purchases (same content, buyer)',
  duplicateAssetRequests: 'duplicate asset requests (tenant, requester, title)',
  duplicateVotes: 'duplicate votes inside one request',
  orphanReviewers: 'reviews by users that do not exist',
  orphanBuyers: 'purchases by users that do not exist',
  orphanRequesters: 'asset requests by users that do not exist',
  orphanAbsenceTeachers: 'absences of teachers that do not exist',
  orphanVoteUsers: 'votes by users that do not exist',
};

/** Renders a census as the plain-text report `pnpm demo` prints. Pure. */
export function renderCensus(census: LegacyCensus): string {
  const lines: string[] = [];
  const width = Math.max(...census.tables.map((table) => table.table.length), 10);
  lines.push(`legacy database "${census.database}" (postgresql ${census.serverVersion})`, '', 'tables');
  for (const { table, rows } of census.tables) lines.push(`  ${table.padEnd(width)}  ${String(rows).padStart(9)}`);
  lines.push(`  ${'total'.padEnd(width)}  ${String(census.totalRows).padStart(9)}`, '');
  const shapeBlock = (title: string, counts: Record<string, number>): void => {
    const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
    lines.push(title);
    for (const [label, n] of Object.entries(counts).sort((a, b) => b[1] - a[1])) {
      const share = total > 0 ? ((100 * n) / total).toFixed(1) : '0.0';
      lines.push(`  ${label.padEnd(22)} ${String(n).padStart(8)}  ${share.padStart(5)}%`);
    }
    lines.push('');
  };
  shapeBlock('TutorProfile.availability shapes', census.shapes.availability);
  shapeBlock('TutorProfile.pricing shapes', census.shapes.pricing);
  shapeBlock('location shapes (families, micro schools, co-ops)', census.shapes.location);
  shapeBlock('LearningAssetRequest.votes element keys', census.shapes.voteKeys);
  lines.push('defects found');
  for (const kind of DEFECT_KINDS) lines.push(`  ${DEFECT_LABELS[kind].padEnd(54)} ${String(census.defects[kind]).padStart(8)}`);
  lines.push(`  ${'distinct subject codes as written / normalised'.padEnd(54)} ${`${census.subjectCodes.raw} / ${census.subjectCodes.normalized}`.padStart(8)}`);
  return lines.join('\n');
}
