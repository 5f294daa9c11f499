import type pg from 'pg';
import { RandomSource } from './random-source.js';
import { RowWriter, type ColumnType } from './row-writer.js';

/** Rows per table at scale 1 (≈ 10k rows in all; scale 100 ≈ 1M). */
export const ROWS_PER_SCALE = {
  Tenant: 2,
  User: 2000,
  TutorProfile: 400,
  Booking: 2500,
  TutoringSession: 1500,
  Content: 600,
  ContentReview: 900,
  ContentPurchase: 900,
  LearningAssetRequest: 300,
  HomeschoolFamily: 300,
  MicroSchool: 60,
  HomeschoolCoop: 60,
  ReliefTeacher: 150,
  TeacherAbsence: 300,
  ReliefBooking: 250,
  TokenTransaction: 700,
} as const;

export type LegacyTable = keyof typeof ROWS_PER_SCALE;

/** Every kind of dirt the generator plants; the census finds each of them by querying. */
export const DEFECT_KINDS = [
  'malformedAvailability',
  'malformedLocation',
  'malformedVotes',
  'subjectSpellingVariants',
  'duplicateReviews',
  'duplicatePurchases',
  'duplicateAssetRequests',
  'duplicateVotes',
  'orphanReviewers',
  'orphanBuyers',
  'orphanRequesters',
  'orphanAbsenceTeachers',
  'orphanVoteUsers',
] as const;

export type DefectKind = (typeof DEFECT_KINDS)[number];

/** How many JSON documents (or vote elements) of each shape; the generator and the census share it. */
export interface ShapeCounts {
  readonly availability: Record<string, number>;
  readonly pricing: Record<string, number>;
  readonly location: Record<string, number>;
  readonly voteKeys: Record<string, number>;
}

/** What one generator run wrote. */
export interface LegacySummary {
  readonly scale: number;
  readonly seed: number;
  readonly tables: Record<LegacyTable, number>;
  readonly shapes: ShapeCounts;
  readonly defects: Record<DefectKind, number>;
}

const SUBJECTS = [
  ['MATH-101', 'Mathematics'],
  ['ENG-201', 'English'],
  ['SCI-110', 'Science'],
  ['HIST-120', 'History'],
  ['GEO-130', 'Geography'],
  ['ART-140', 'Visual Arts'],
  ['MUS-150', 'Music'],
  ['CHEM-210', 'Chemistry'],
  ['PHYS-220', 'Physics'],
  ['BIO-230', 'Biology'],
  ['CS-240', 'Computing'],
  ['FR-250', 'French'],
] as const;
const DAY_SHORT = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const DAY_LONG = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;
const SUBURBS = [
  ['Newtown', 'Sydney', 'NSW', '2042'],
  ['Fitzroy', 'Melbourne', 'VIC', '3065'],
  ['Paddington', 'Brisbane', 'QLD', '4064'],
  ['Fremantle', 'Perth', 'WA', '6160'],
  ['Glenelg', 'Adelaide', 'SA', '5045'],
  ['Sandy Bay', 'Hobart', 'TAS', '7005'],
] as const;
const BASE_TIME = Date.UTC(2024, 0, 1);
const DAY_MS = 86_400_000;

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

function id(prefix: string, index: number): string {
  return `${prefix}_${pad(index, 7)}`;
}

/** A deterministic timestamp `days` (fractional) after 2024-01-01, in PostgreSQL's text form. */
function at(days: number): string {
  return new Date(BASE_TIME + Math.round(days * DAY_MS)).toISOString().replace('T', ' ').replace('Z', '');
}

function hhmm(minutes: number): string {
  return `${pad(Math.floor(minutes / 60), 2)}:${pad(minutes % 60, 2)}`;
}

function bump(counter: Record<string, number>, key: string, by = 1): void {
  counter[key] = (counter[key] ?? 0) + by;
}

/** Legacy spellings of a subject code: the canonical form most of the time, else case/spacing variants. */
function spellCode(rng: RandomSource, code: string): { text: string; variant: boolean } {
  const form = rng.weighted({ canonical: 72, lower: 10, padded: 8, mixed: 7, spacedDash: 3 });
  switch (form) {
    case 'canonical':
      return { text: code, variant: false };
    case 'lower':
      return { text: code.toLowerCase(), variant: true };
    case 'padded':
      return { text: ` ${code} `, variant: true };
    case 'mixed':
      return { text: code.charAt(0) + code.slice(1).toLowerCase(), variant: true };
    case 'spacedDash':
      return { text: `${code.replace('-', ' - ')}`, variant: true };
  }
}

function spellName(rng: RandomSource, name: string): string {
  return rng.weighted({ [name]: 75, [name.toLowerCase()]: 10, [`${name.toUpperCase()} `]: 8, [` ${name}`]: 7 });
}

function availabilitySlot(rng: RandomSource): Record<string, unknown> {
  const day = rng.int(0, 6);
  const start = rng.int(14, 36) * 30;
  const end = start + rng.pick([60, 90, 120, 180]);
  const slot: Record<string, unknown> = {};
  const dayForm = rng.weighted({ number: 40, short: 20, upper: 15, long: 10, dayOfWeek: 15 });
  if (dayForm === 'number') slot['day'] = day;
  else if (dayForm === 'short') slot['day'] = DAY_SHORT[day];
  else if (dayForm === 'upper') slot['day'] = DAY_LONG[day]!.toUpperCase();
  else if (dayForm === 'long') slot['day'] = DAY_LONG[day];
  else slot['dayOfWeek'] = day;
  if (rng.chance(0.5)) {
    slot['start'] = hhmm(start);
    slot['end'] = hhmm(end);
  } else {
    slot['startTime'] = hhmm(start);
    slot['endTime'] = hhmm(end);
  }
  if (rng.chance(0.5)) slot['recurring'] = rng.chance(0.85);
  if (rng.chance(0.1)) slot['timezone'] = rng.pick(['Australia/Sydney', 'Australia/Perth', 'Australia/Brisbane']);
  return slot;
}

/**
 * Availability in the legacy shapes; returns the document (undefined = SQL NULL) and its shape label.
 * Exported for the extraction benchmark, which needs the same mix of documents at any volume.
 */
export function availabilityDoc(rng: RandomSource): { doc: unknown; shape: string; malformed: boolean } {
  const slots = (): unknown[] => Array.from({ length: rng.int(1, 5) }, () => availabilitySlot(rng));
  const shape = rng.weighted({ 'bare array': 30, '{slots}': 25, '{weekly}': 20, 'empty array': 8, null: 9, 'json null': 2, malformed: 6 });
  switch (shape) {
    case 'bare array':
      return { doc: slots(), shape, malformed: false };
    case '{slots}':
      return { doc: { slots: slots(), updatedBy: rng.pick(['tutor', 'admin']) }, shape, malformed: false };
    case '{weekly}':
      return { doc: { weekly: slots(), timezone: 'Australia/Sydney' }, shape, malformed: false };
    case 'empty array':
      return { doc: [], shape: 'bare array', malformed: false };
    case 'null':
      return { doc: undefined, shape: 'null', malformed: false };
    case 'json null':
      return { doc: null, shape: 'json null', malformed: false };
    case 'malformed': {
      const kind = rng.weighted({ text: 1, emptyObject: 1, slotsNotArray: 1, badDayName: 1, missingEnd: 1, dayOutOfRange: 1 });
      const broken = slots();
      if (kind === 'text') return { doc: 'Mon-Fri 9-5, not weekends', shape: 'unrecognized', malformed: true };
      if (kind === 'emptyObject') return { doc: { note: 'ask me' }, shape: 'unrecognized', malformed: true };
      if (kind === 'slotsNotArray') return { doc: { slots: 'weekdays after 4pm' }, shape: '{slots}', malformed: true };
      const first = broken[0] as Record<string, unknown>;
      if (kind === 'badDayName') {
        delete first['dayOfWeek'];
        first['day'] = 'funday';
      } else if (kind === 'missingEnd') {
        delete first['end'];
        delete first['endTime'];
      } else {
        delete first['dayOfWeek'];
        first['day'] = 9;
      }
      const wrapped = rng.chance(0.5);
      return { doc: wrapped ? { weekly: broken } : broken, shape: wrapped ? '{weekly}' : 'bare array', malformed: true };
    }
  }
}

function pricingDoc(rng: RandomSource): { doc: unknown; shape: string } {
  const shape = rng.weighted({ '{tiers}': 50, 'bare array': 30, '{hourlyRate}': 10, null: 10 });
  const tiers = Array.from({ length: rng.int(1, 3) }, (_, index) => ({
    sessionType: ['one_on_one', 'group', 'intro'][index],
    duration: rng.pick([30, 45, 60, 90]),
    rate: rng.int(40, 150),
    ...(rng.chance(0.3) ? { currency: 'AUD' } : {}),
    ...(index === 1 ? { maxGroupSize: rng.int(2, 6), groupDiscount: rng.pick([0.1, 0.15, 0.2]) } : {}),
  }));
  switch (shape) {
    case '{tiers}':
      return { doc: { tiers, currency: 'AUD' }, shape };
    case 'bare array':
      return { doc: tiers.map((tier) => ({ type: tier.sessionType, minutes: tier.duration, baseRate: tier.rate })), shape };
    case '{hourlyRate}':
      return { doc: { hourlyRate: rng.int(40, 150) }, shape };
    case 'null':
      return { doc: undefined, shape };
  }
}

function locationDoc(rng: RandomSource): { doc: unknown; shape: string; malformed: boolean } {
  const kind = rng.weighted({ 'lat/lng': 45, 'latitude/longitude': 40, null: 10, malformed: 5 });
  if (kind === 'null') return { doc: undefined, shape: 'null', malformed: false };
  if (kind === 'malformed') {
    return rng.chance(0.5)
      ? { doc: 'Sydney NSW', shape: 'not an object', malformed: true }
      : { doc: { city: 'Sydney', lat: 'n/a', lng: 'n/a', postcode: '2000' }, shape: 'lat/lng', malformed: true };
  }
  const [suburb, city, state, postcode] = rng.pick(SUBURBS);
  const lat = -(27 + rng.next() * 15);
  const lng = 115 + rng.next() * 38;
  const doc: Record<string, unknown> = {};
  doc[rng.chance(0.5) ? 'street' : 'streetAddress'] = `${rng.int(1, 400)} ${rng.pick(['King', 'Queen', 'George', 'High', 'Smith'])} St`;
  doc['suburb'] = suburb;
  doc['city'] = city;
  doc['state'] = state;
  doc[rng.chance(0.55) ? 'postcode' : 'postalCode'] = postcode;
  if (kind === 'lat/lng') {
    doc['lat'] = Number(lat.toFixed(5));
    doc['lng'] = Number(lng.toFixed(5));
  } else {
    doc['latitude'] = Number(lat.toFixed(5));
    doc['longitude'] = Number(lng.toFixed(5));
  }
  if (rng.chance(0.5)) doc['country'] = 'Australia';
  return { doc, shape: kind, malformed: false };
}

const json = (value: unknown): string | undefined => (value === undefined ? undefined : JSON.stringify(value));

/** Options of {@link generateLegacyData}. */
export interface GenerateOptions {
  readonly scale: number;
  readonly seed: number;
  /** Called after each table with its row count. */
  readonly onTable?: (table: LegacyTable, rows: number) => void;
}

/**
 * Writes seed 003's legacy data into the "before" schema through `client`: deterministic for a given
 * (scale, seed), dirty in every way the seeds fight (see {@link DEFECT_KINDS}), written with multi-row
 * INSERTs. Runs inside whatever transaction the caller opened; the caller checks the tables are empty.
 */
export async function generateLegacyData(client: pg.ClientBase, options: GenerateOptions): Promise<LegacySummary> {
  const { scale, seed } = options;
  const count = (table: LegacyTable): number => Math.max(1, Math.round(ROWS_PER_SCALE[table] * scale));
  const tables = {} as Record<LegacyTable, number>;
  const defects = Object.fromEntries(DEFECT_KINDS.map((kind) => [kind, 0])) as Record<DefectKind, number>;
  const shapes: ShapeCounts = { availability: {}, pricing: {}, location: {}, voteKeys: {} };

  const write = async (
    table: LegacyTable,
    columns: ReadonlyArray<readonly [string, ColumnType]>,
    fill: (writer: RowWriter, rng: RandomSource) => Promise<void>,
  ): Promise<void> => {
    const writer = new RowWriter(client, table, columns);
    await fill(writer, new RandomSource(seed, table));
    tables[table] = await writer.flush();
    options.onTable?.(table, tables[table]);
  };

  // Users are laid out by role so that any table can pick a user of the right kind and tenant in O(1).
  const tenantCount = 3 + count('Tenant');
  const userCount = count('User');
  const tutors = count('TutorProfile');
  const teachers = count('ReliefTeacher');
  const parents = count('HomeschoolFamily');
  const learnerStart = tutors + teachers + parents;
  const tenantOfUser = (user: number): number => user % tenantCount;
  const userInRange = (rng: RandomSource, from: number, size: number): number => from + rng.int(0, size - 1);
  /** A user of `tenant` among users [from, from + size); any user of the range if the tenant has none there. */
  const sameTenantUser = (rng: RandomSource, tenant: number, from: number, size: number): number => {
    const first = from + ((tenant - (from % tenantCount) + tenantCount) % tenantCount);
    const available = first < from + size ? Math.floor((from + size - 1 - first) / tenantCount) + 1 : 0;
    return available > 0 ? first + rng.int(0, available - 1) * tenantCount : userInRange(rng, from, size);
  };
  // Each orphan reference names a distinct missing user, so orphans never create unplanned duplicates.
  let orphans = 0;
  const orphanUser = (): string => `usr_gone_${pad((orphans += 1), 7)}`;
  const created = (rng: RandomSource): [string, string] => {
    const day = rng.next() * 500;
    return [at(day), at(day + rng.next() * 30)];
  };

  await write('Tenant', [['id', 'text'], ['name', 'text'], ['slug', 'text'], ['plan', 'text'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    for (let t = 0; t < tenantCount; t += 1) {
      await writer.add([id('ten', t), `Tenant ${t}`, `tenant-${t}`, rng.pick(['free', 'pro', 'school']), ...created(rng)]);
    }
  });

  await write('User', [['id', 'text'], ['tenantId', 'text'], ['email', 'text'], ['name', 'text'], ['roles', 'text[]'], ['tokenBalance', 'int'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    for (let u = 0; u < userCount; u += 1) {
      const roles = u < tutors ? (rng.chance(0.3) ? ['tutor', 'learner'] : ['tutor']) : u < tutors + teachers ? ['teacher'] : u < learnerStart ? ['parent'] : ['learner'];
      await writer.add([id('usr', u), id('ten', tenantOfUser(u)), `user${u}@tenant-${tenantOfUser(u)}.example`, `User ${u}`, roles, rng.int(0, 500), ...created(rng)]);
    }
  });

  await write('TutorProfile', [['id', 'text'], ['userId', 'text'], ['tenantId', 'text'], ['bio', 'text'], ['hourlyRate', 'float8'], ['availability', 'jsonb'], ['pricing', 'jsonb'], ['rating', 'float8'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    for (let p = 0; p < tutors; p += 1) {
      const availability = availabilityDoc(rng);
      const pricing = pricingDoc(rng);
      bump(shapes.availability, availability.shape);
      bump(shapes.pricing, pricing.shape);
      if (availability.malformed) defects.malformedAvailability += 1;
      await writer.add([id('tp', p), id('usr', p), id('ten', tenantOfUser(p)), rng.chance(0.7) ? `Tutor ${p} bio` : null, rng.chance(0.8) ? rng.int(40, 150) : null, json(availability.doc), json(pricing.doc), rng.chance(0.6) ? Number((3 + rng.next() * 2).toFixed(1)) : null, ...created(rng)]);
    }
  });

  const bookingCount = count('Booking');
  const bookingSubject: number[] = [];
  await write('Booking', [['id', 'text'], ['tenantId', 'text'], ['learnerId', 'text'], ['tutorId', 'text'], ['subjectId', 'text'], ['subjectName', 'text'], ['scheduledStart', 'timestamp(3)'], ['scheduledEnd', 'timestamp(3)'], ['status', 'text'], ['priceCents', 'int'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    for (let b = 0; b < bookingCount; b += 1) {
      const tenant = b % tenantCount;
      const learner = sameTenantUser(rng, tenant, learnerStart, userCount - learnerStart);
      const tutor = sameTenantUser(rng, tenant, 0, tutors);
      const subject = rng.int(0, SUBJECTS.length - 1);
      bookingSubject.push(subject);
      const [code, name] = SUBJECTS[subject]!;
      const hasSubject = rng.chance(0.96);
      const spelled = spellCode(rng, code);
      if (hasSubject && spelled.variant) defects.subjectSpellingVariants += 1;
      const start = rng.next() * 600;
      await writer.add([id('bk', b), id('ten', tenantOfUser(learner)), id('usr', learner), id('usr', tutor), hasSubject ? spelled.text : null, hasSubject && rng.chance(0.9) ? spellName(rng, name) : null, at(start), at(start + 1 / 24), rng.pick(['pending', 'confirmed', 'completed', 'completed', 'cancelled']), rng.int(30, 150) * 100, ...created(rng)]);
    }
  });

  await write('TutoringSession', [['id', 'text'], ['tenantId', 'text'], ['bookingId', 'text'], ['tutorProfileId', 'text'], ['subjectId', 'text'], ['scheduledStart', 'timestamp(3)'], ['actualStart', 'timestamp(3)'], ['actualEnd', 'timestamp(3)'], ['status', 'text'], ['notes', 'text'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    for (let s = 0; s < count('TutoringSession'); s += 1) {
      const booking = rng.int(0, bookingCount - 1);
      const linked = rng.chance(0.9);
      const tenant = linked ? booking % tenantCount : s % tenantCount;
      const tutor = sameTenantUser(rng, tenant, 0, tutors);
      const [code] = SUBJECTS[linked ? bookingSubject[booking]! : rng.int(0, SUBJECTS.length - 1)]!;
      const hasSubject = rng.chance(0.95);
      const spelled = spellCode(rng, code);
      if (hasSubject && spelled.variant) defects.subjectSpellingVariants += 1;
      const start = rng.next() * 600;
      const done = rng.chance(0.6);
      await writer.add([id('ts', s), id('ten', tenant), linked ? id('bk', booking) : null, id('tp', tutor), hasSubject ? spelled.text : null, at(start), done ? at(start + 0.001) : null, done ? at(start + 1 / 24) : null, done ? 'completed' : rng.pick(['scheduled', 'cancelled']), rng.chance(0.3) ? 'notes' : null, ...created(rng)]);
    }
  });

  const contentCount = count('Content');
  await write('Content', [['id', 'text'], ['tenantId', 'text'], ['creatorId', 'text'], ['title', 'text'], ['description', 'text'], ['type', 'text'], ['status', 'text'], ['priceTokens', 'int'], ['subjects', 'text[]'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    for (let c = 0; c < contentCount; c += 1) {
      const tenant = c % tenantCount;
      const creator = sameTenantUser(rng, tenant, 0, tutors);
      const subjects = rng.chance(0.08) ? null : Array.from({ length: rng.int(0, 3) }, () => spellName(rng, rng.pick(SUBJECTS)[1]));
      await writer.add([id('ct', c), id('ten', tenant), id('usr', creator), `Resource ${c}`, rng.chance(0.5) ? 'description' : null, rng.pick(['worksheet', 'video', 'unit_plan', 'quiz']), rng.pick(['draft', 'published', 'published', 'archived']), rng.int(0, 50), subjects, ...created(rng)]);
    }
  });

  /** Writes `base` rows of a (contentId, userId) table, planting duplicates and orphan users. */
  const pairs = async (
    table: 'ContentReview' | 'ContentPurchase',
    prefix: string,
    duplicateKind: 'duplicateReviews' | 'duplicatePurchases',
    orphanKind: 'orphanReviewers' | 'orphanBuyers',
    columns: ReadonlyArray<readonly [string, ColumnType]>,
    extra: (rng: RandomSource, when: number) => Array<string | number | null>,
  ): Promise<void> =>
    write(table, columns, async (writer, rng) => {
      let row = 0;
      for (let i = 0; i < count(table); i += 1) {
        // Pair i is unique by construction: content i % C with user picked from a stride that never repeats for that content.
        const content = i % contentCount;
        const orphan = rng.chance(0.025);
        const user = orphan ? orphanUser() : id('usr', learnerStart + ((Math.floor(i / contentCount) * 7919 + content) % (userCount - learnerStart)));
        const copies = rng.chance(0.04) ? rng.int(2, 3) : 1;
        defects[duplicateKind] += copies - 1;
        if (orphan) defects[orphanKind] += copies;
        for (let copy = 0; copy < copies; copy += 1) {
          await writer.add([id(prefix, row), id('ct', content), user, ...extra(rng, 30 + rng.next() * 500)]);
          row += 1;
        }
      }
    });

  await pairs('ContentReview', 'rv', 'duplicateReviews', 'orphanReviewers',
    [['id', 'text'], ['contentId', 'text'], ['reviewerId', 'text'], ['rating', 'int'], ['comment', 'text'], ['createdAt', 'timestamp(3)']],
    (rng, when) => [rng.int(1, 5), rng.chance(0.4) ? 'helpful' : null, at(when)]);
  await pairs('ContentPurchase', 'pu', 'duplicatePurchases', 'orphanBuyers',
    [['id', 'text'], ['contentId', 'text'], ['buyerId', 'text'], ['tokensPaid', 'int'], ['purchasedAt', 'timestamp(3)']],
    (rng, when) => [rng.int(0, 50), at(when)]);

  await write('LearningAssetRequest', [['id', 'text'], ['tenantId', 'text'], ['requesterId', 'text'], ['title', 'text'], ['description', 'text'], ['status', 'text'], ['votes', 'jsonb'], ['voteCount', 'int'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    let row = 0;
    for (let r = 0; r < count('LearningAssetRequest'); r += 1) {
      const tenant = r % tenantCount;
      const orphan = rng.chance(0.02);
      const requester = orphan ? orphanUser() : id('usr', sameTenantUser(rng, tenant, learnerStart, userCount - learnerStart));
      let votes: unknown;
      // Tallied per document, then counted once per row written: a duplicated request repeats its votes.
      const tally = { keys: {} as Record<string, number>, malformed: 0, duplicates: 0, orphans: 0 };
      const voteShape = rng.weighted({ list: 85, empty: 7, none: 8 });
      if (voteShape === 'list') {
        const list: unknown[] = [];
        const voters = new Set<string>();
        for (let v = 0; v < rng.int(1, 8); v += 1) {
          const kind = rng.weighted({ userId: 50, user_id: 25, id: 18, orphan: 3, malformed: 4 });
          if (kind === 'malformed') {
            list.push(rng.chance(0.5) ? { votedAt: at(rng.next() * 600) } : 42);
            tally.malformed += 1;
            bump(tally.keys, 'no user key');
            continue;
          }
          const user = kind === 'orphan' ? orphanUser() : id('usr', sameTenantUser(rng, tenant, learnerStart, userCount - learnerStart));
          if (kind === 'orphan') tally.orphans += 1;
          const key = kind === 'orphan' ? 'userId' : kind;
          const vote = { [key]: user, ...(rng.chance(0.3) ? { votedAt: at(rng.next() * 600) } : {}) };
          if (voters.has(user)) tally.duplicates += 1;
          voters.add(user);
          list.push(vote);
          bump(tally.keys, key);
          if (kind !== 'orphan' && rng.chance(0.03)) {
            list.push({ ...vote });
            tally.duplicates += 1;
            bump(tally.keys, key);
          }
        }
        votes = list;
      } else if (voteShape === 'empty') {
        votes = [];
      }
      const copies = rng.chance(0.05) ? 2 : 1;
      defects.duplicateAssetRequests += copies - 1;
      if (orphan) defects.orphanRequesters += copies;
      defects.malformedVotes += tally.malformed * copies;
      defects.duplicateVotes += tally.duplicates * copies;
      defects.orphanVoteUsers += tally.orphans * copies;
      for (const [key, n] of Object.entries(tally.keys)) bump(shapes.voteKeys, key, n * copies);
      const title = `Need resources for topic ${r}`;
      for (let copy = 0; copy < copies; copy += 1) {
        await writer.add([id('lar', row), id('ten', tenant), requester, title, rng.chance(0.5) ? 'please' : null, rng.pick(['open', 'open', 'fulfilled', 'closed']), json(votes), Array.isArray(votes) ? votes.length + (rng.chance(0.1) ? 1 : 0) : 0, ...created(rng)]);
        row += 1;
      }
    }
  });

  const located = async (table: 'HomeschoolFamily' | 'MicroSchool' | 'HomeschoolCoop', prefix: string, columns: ReadonlyArray<readonly [string, ColumnType]>, extra: (rng: RandomSource, index: number) => Array<string | number>): Promise<void> =>
    write(table, [['id', 'text'], ['tenantId', 'text'], ...columns, ['location', 'jsonb'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
      for (let i = 0; i < count(table); i += 1) {
        const location = locationDoc(rng);
        bump(shapes.location, location.shape);
        if (location.malformed) defects.malformedLocation += 1;
        const tenant = table === 'HomeschoolFamily' ? tenantOfUser(tutors + teachers + i) : i % tenantCount;
        await writer.add([id(prefix, i), id('ten', tenant), ...extra(rng, i), json(location.doc), ...created(rng)]);
      }
    });

  await located('HomeschoolFamily', 'hf', [['primaryUserId', 'text'], ['familyName', 'text'], ['childCount', 'int']], (rng, i) => [id('usr', tutors + teachers + i), `Family ${i}`, rng.int(1, 5)]);
  await located('MicroSchool', 'ms', [['name', 'text'], ['capacity', 'int']], (rng, i) => [`Micro School ${i}`, rng.int(8, 40)]);
  await located('HomeschoolCoop', 'hc', [['name', 'text'], ['memberCount', 'int']], (rng, i) => [`Co-op ${i}`, rng.int(3, 60)]);

  await write('ReliefTeacher', [['id', 'text'], ['tenantId', 'text'], ['userId', 'text'], ['qualifications', 'text[]'], ['dailyRate', 'float8'], ['isAvailable', 'bool'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    for (let t = 0; t < teachers; t += 1) {
      const user = tutors + t;
      await writer.add([id('rt', t), id('ten', tenantOfUser(user)), id('usr', user), [rng.pick(['primary', 'secondary', 'special_ed'])], rng.int(250, 450), rng.chance(0.8), ...created(rng)]);
    }
  });

  const absenceCount = count('TeacherAbsence');
  await write('TeacherAbsence', [['id', 'text'], ['tenantId', 'text'], ['teacherId', 'text'], ['date', 'timestamp(3)'], ['reason', 'text'], ['status', 'text'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    for (let a = 0; a < absenceCount; a += 1) {
      const tenant = a % tenantCount;
      const orphan = rng.chance(0.03);
      if (orphan) defects.orphanAbsenceTeachers += 1;
      const teacher = orphan ? orphanUser() : id('usr', sameTenantUser(rng, tenant, tutors, teachers));
      await writer.add([id('ta', a), id('ten', tenant), teacher, at(Math.floor(rng.next() * 600)), rng.pick(['sick', 'leave', 'training', null]), rng.pick(['reported', 'covered', 'uncovered']), ...created(rng)]);
    }
  });

  await write('ReliefBooking', [['id', 'text'], ['tenantId', 'text'], ['absenceId', 'text'], ['reliefTeacherId', 'text'], ['date', 'timestamp(3)'], ['status', 'text'], ['createdAt', 'timestamp(3)'], ['updatedAt', 'timestamp(3)']], async (writer, rng) => {
    for (let r = 0; r < count('ReliefBooking'); r += 1) {
      const absence = rng.int(0, absenceCount - 1);
      await writer.add([id('rb', r), id('ten', absence % tenantCount), id('ta', absence), id('rt', rng.int(0, teachers - 1)), at(Math.floor(rng.next() * 600)), rng.pick(['confirmed', 'completed', 'cancelled']), ...created(rng)]);
    }
  });

  await write('TokenTransaction', [['id', 'text'], ['tenantId', 'text'], ['userId', 'text'], ['type', 'text'], ['amount', 'int'], ['referenceId', 'text'], ['createdAt', 'timestamp(3)']], async (writer, rng) => {
    for (let x = 0; x < count('TokenTransaction'); x += 1) {
      const user = rng.int(0, userCount - 1);
      const type = rng.pick(['purchase', 'earn', 'refund', 'bonus']);
      await writer.add([id('tx', x), id('ten', tenantOfUser(user)), id('usr', user), type, type === 'purchase' ? -rng.int(1, 50) : rng.int(1, 50), type === 'purchase' ? id('pu', rng.int(0, count('ContentPurchase') - 1)) : null, at(rng.next() * 600)]);
    }
  });

  return { scale, seed, tables, shapes, defects };
}
