/**
 * `analyze` on the seeded Scholarly "before" database (seed 003's legacy platform): the JSON check must find the
 * shapes the generator planted (availability in three variants with its slots, pricing, votes, locations in two
 * spellings), and the static checks the foreign keys the legacy schema left without an index.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { analyzeDatabase, type AnalyzeFinding } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { seedLegacyDatabase } from './seed-legacy-database.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const db = useTestDatabase();
let findings: AnalyzeFinding[] = [];

beforeAll(async () => {
  await seedLegacyDatabase({ databaseUrl: db.url, scale: 0.3, seed: 11 });
  findings = await analyzeDatabase({ databaseUrl: db.url, checks: ['json-shapes', 'fk-without-index', 'reference-candidate'], schemaPath: path.join(root, 'prisma', 'schema.prisma') });
});

describe('analyze on the legacy Scholarly database', () => {
  it('lists the planted JSON shapes: lists of objects to extract, and objects in several spellings', () => {
    const json = Object.fromEntries(findings.filter((f) => f.check.startsWith('json-')).map((f) => [f.object, f]));
    // availability: one list in three variants (a bare array, {slots}, {weekly}), days and times in several spellings.
    expect(json['public.TutorProfile.availability']).toMatchObject({ check: 'json-should-be-table', kind: 'runtime' });
    expect(json['public.TutorProfile.availability']?.message).toMatch(/\$ \| \$\.slots \| \$\.weekly are one list of objects/);
    expect(json['public.TutorProfile.availability']?.fix?.code).toMatch(/shapes: \{ list: z\.array\(element\), "slots": z\.object/);
    // pricing: the tiers list; votes: an array of objects whose user key is spelled two ways.
    expect(json['public.TutorProfile.pricing']?.message).toMatch(/\$\.tiers is an array of objects .* keys duration, rate, sessionType/);
    expect(json['public.LearningAssetRequest.votes']?.message).toMatch(/keys .*userId\?.*user_id\?/);
    // locations: objects in two spellings of the coordinates.
    for (const table of ['HomeschoolFamily', 'HomeschoolCoop', 'MicroSchool']) {
      expect(json[`public.${table}.location`]).toMatchObject({ check: 'json-variants' });
      expect(json[`public.${table}.location`]?.message).toMatch(/keys of its objects: .*\blat \d+ %.*\blatitude \d+ %|keys of its objects: .*\blatitude \d+ %.*\blat \d+ %/);
    }
  });

  it('lists the foreign keys the legacy schema left without an index', () => {
    expect(findings.filter((f) => f.check === 'fk-without-index').length).toBeGreaterThan(0);
  });

  it('lists the subject codes typed by hand in bookings and sessions as a reference-table candidate, with its Prisma location', () => {
    const subject = findings.find((f) => f.check === 'reference-candidate' && f.object === 'public.Booking+TutoringSession.subjectId');
    expect(subject?.prisma).toMatchObject({ model: 'Booking', field: 'subjectId', file: expect.stringMatching(/schema\.prisma$/), line: expect.any(Number) });
    expect(subject?.message).toMatch(/^"Booking"\."subjectId", "TutoringSession"\."subjectId" hold \d+ distinct codes in \d+ rows \(\d+ once case and spacing are folded\)/);
    expect(subject?.fix?.code).toContain('extractReferenceRows({');
    // Keys with foreign keys (tenantId, tutorId, …) are not candidates.
    expect(findings.filter((f) => f.check === 'reference-candidate' && /tenantId|tutorId|learnerId/.test(f.object))).toEqual([]);
  });
});
