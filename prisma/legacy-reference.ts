/**
 * Seed 003 phase 2's reference data: where Subject rows come from and how legacy subject strings are
 * normalised. Shared by the example plan and its tests.
 */
import type { ReferenceSource } from '@prisma-evolve/core';

/** SQL normalising a legacy subject code: trimmed, upper case, no spaces around the dash ("math - 101" → "MATH-101"). */
export const SUBJECT_CODE = (value: string): string => `upper(regexp_replace(btrim(${value}), '\\s*-\\s*', '-', 'g'))`;

/** SQL normalising a subject name: trimmed, words capitalised ("MATHEMATICS " → "Mathematics"). */
export const SUBJECT_NAME = (value: string): string => `initcap(btrim(${value}))`;

/**
 * Booking (code + name), TutoringSession (code only) and Content's `subjects` arrays (names, mapped to the
 * codes bookings use for the same name in the same tenant).
 */
export const subjectReferenceSources: readonly ReferenceSource[] = [
  { table: 'Booking', select: { tenantId: 't."tenantId"', code: SUBJECT_CODE('t."subjectId"'), name: SUBJECT_NAME('t."subjectName"') } },
  { table: 'TutoringSession', select: { tenantId: 't."tenantId"', code: SUBJECT_CODE('t."subjectId"'), name: 'null::text' } },
  {
    table: 'Content',
    join: `cross join lateral unnest(t."subjects") as s(v)
           join (select distinct "tenantId", lower(btrim("subjectName")) as n, ${SUBJECT_CODE('"subjectId"')} as code
                 from "Booking" where "subjectName" is not null and "subjectId" is not null) m
             on m."tenantId" = t."tenantId" and m.n = lower(btrim(s.v))`,
    select: { tenantId: 't."tenantId"', code: 'm.code', name: SUBJECT_NAME('s.v') },
  },
];
