/**
 * `analyze` on the seeded Scholarly "before" database (seed 003's legacy platform): the JSON check must find the
 * shapes the generator planted (availability in three variants with its slots, pricing, votes, locations in two
 * spellings), and the static checks the foreign keys the legacy schema left without an index.
 */
import { beforeAll, describe, expect, it } from '@jest/globals';
import { analyzeDatabase, type AnalyzeFinding } from '@prisma-evolve/core';
import { useTestDatabase } from '@prisma-evolve/testing/jest';
import { seedLegacyDatabase } from './seed-legacy-database.js';

const db = useTestDatabase();
let findings: AnalyzeFinding[] = [];

beforeAll(async () => {
  await seedLegacyDatabase({ databaseUrl: db.url, scale: 0.3, seed: 11 });
  findings = await analyzeDatabase({ databaseUrl: db.url, checks: ['json-shapes', 'fk-without-index'] });
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
});
