/**
 * The shapes of seed 003's legacy JSON documents, for `extractJson`. Each document kind is described once
 * as zod shapes, which validate and normalise every known variant. Their rules: of several keys the first
 * present one is read, JSON `null` counts as absent, and an object document uses the first array key it has
 * (the benchmark's set-SQL baseline, scripts/bench/set-sql-baseline.ts, writes the same rules as SQL).
 */
import { mapColumns, type ShapeSet } from '@prisma-evolve/core';
import { z } from 'zod';

/** Day names as the legacy data spells them, to day of week (Sunday = 0). */
export const DAY_NUMBERS: Readonly<Record<string, number>> = {
  sun: 0, sunday: 0, mon: 1, monday: 1, tue: 2, tues: 2, tuesday: 2, wed: 3, wednesday: 3,
  thu: 4, thur: 4, thurs: 4, thursday: 4, fri: 5, friday: 5, sat: 6, saturday: 6,
};

/** A day as a number 0–6 or a name in any case (`'mon'`, `'MONDAY'`); the issue says which it got. */
export const dayOfWeek = z.unknown().transform((value, ctx): number => {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 6) return value;
  if (typeof value === 'string') {
    const day = DAY_NUMBERS[value.replace(/^\s+|\s+$/g, '').toLowerCase()];
    if (day !== undefined) return day;
    ctx.addIssue({ code: 'custom', message: `unknown day "${value}"` });
    return z.NEVER;
  }
  ctx.addIssue({ code: 'custom', message: `expected a day 0-6 or a day name, got ${JSON.stringify(value)}` });
  return z.NEVER;
});

const TIME = /^([01][0-9]|2[0-3]):[0-5][0-9]$/;
const time = z.string().regex(TIME, 'expected a time HH:MM');

/** One availability slot, normalised. */
export interface AvailabilitySlot {
  readonly dayOfWeek: number;
  readonly startTime: string;
  readonly endTime: string;
  readonly isRecurring: boolean;
  readonly timezone: string;
}

/** The first key of `keys` whose value is present (not missing, not JSON null), with that value. */
function firstPresent(raw: Readonly<Record<string, unknown>>, keys: readonly string[]): { key: string; value: unknown } | undefined {
  for (const key of keys) {
    const value = raw[key];
    if (value !== undefined && value !== null) return { key, value };
  }
  return undefined;
}

/** Validates the first present of `keys` with `schema`; reports at that key. */
function pick<T>(raw: Readonly<Record<string, unknown>>, keys: readonly string[], schema: z.ZodType<T>, ctx: z.RefinementCtx, label: string): T | undefined {
  const found = firstPresent(raw, keys);
  if (!found) {
    ctx.addIssue({ code: 'custom', path: [keys[0] as string], message: `no ${label}` });
    return undefined;
  }
  const parsed = schema.safeParse(found.value);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', path: [found.key, ...issue.path.map(String)], message: issue.message });
    return undefined;
  }
  return parsed.data;
}

/** An optional field: absent (or null) gives `fallback`; present must satisfy `schema`. */
function optional<T>(raw: Readonly<Record<string, unknown>>, key: string, schema: z.ZodType<T>, ctx: z.RefinementCtx, fallback: T): T {
  return firstPresent(raw, [key]) ? (pick(raw, [key], schema, ctx, key) ?? fallback) : fallback;
}

const slot = z.record(z.string(), z.unknown()).transform((raw, ctx): AvailabilitySlot => ({
  dayOfWeek: pick(raw, ['dayOfWeek', 'day'], dayOfWeek, ctx, 'day or dayOfWeek') ?? 0,
  startTime: pick(raw, ['start', 'startTime'], time, ctx, 'start or startTime') ?? '',
  endTime: pick(raw, ['end', 'endTime'], time, ctx, 'end or endTime') ?? '',
  isRecurring: optional(raw, 'recurring', z.boolean(), ctx, true),
  timezone: optional(raw, 'timezone', z.string(), ctx, 'Australia/Sydney'),
}));

/** Availability: a bare array, `{slots: [...]}` or `{weekly: [...]}`. */
export const availabilityShapes: ShapeSet<AvailabilitySlot> = {
  'bare array': z.array(slot),
  '{slots}': z.object({ slots: z.array(slot) }).transform((doc) => doc.slots),
  // An object with both keys is read by its first ("slots").
  '{weekly}': z
    .object({ weekly: z.array(slot), slots: z.unknown().refine((value) => !Array.isArray(value), 'has a "slots" array, which is read first').optional() })
    .transform((doc) => doc.weekly),
};

/** Availability slot to `TutorAvailabilitySlot` columns. */
export const availabilityMap = mapColumns(
  (s: AvailabilitySlot) => ({ dayOfWeek: s.dayOfWeek, startTime: s.startTime, endTime: s.endTime, isRecurring: s.isRecurring, timezone: s.timezone }),
  ['dayOfWeek', 'startTime', 'endTime', 'isRecurring', 'timezone'],
);

/** One pricing tier, normalised. */
export interface PricingTier {
  readonly sessionType: string;
  readonly duration: number;
  readonly baseRate: number;
  readonly currency: string;
  readonly groupDiscount: number;
  readonly maxGroupSize: number;
}

const tier = z.object({
  sessionType: z.string().min(1),
  duration: z.number().int().positive(),
  rate: z.number().nonnegative(),
  currency: z.string().optional(),
  maxGroupSize: z.number().int().positive().optional(),
  groupDiscount: z.number().min(0).max(1).optional(),
});

/** Pricing: `{tiers: [...], currency}`, a bare array of `{type, minutes, baseRate}`, or `{hourlyRate}`. */
export const pricingShapes: ShapeSet<PricingTier> = {
  '{tiers}': z.object({ tiers: z.array(tier), currency: z.string().optional() }).transform((doc) =>
    doc.tiers.map((t) => ({ sessionType: t.sessionType, duration: t.duration, baseRate: t.rate, currency: t.currency ?? doc.currency ?? 'AUD', groupDiscount: t.groupDiscount ?? 0, maxGroupSize: t.maxGroupSize ?? 1 })),
  ),
  'bare array': z
    .array(z.object({ type: z.string().min(1), minutes: z.number().int().positive(), baseRate: z.number().nonnegative() }))
    .transform((list) => list.map((t) => ({ sessionType: t.type, duration: t.minutes, baseRate: t.baseRate, currency: 'AUD', groupDiscount: 0, maxGroupSize: 1 }))),
  '{hourlyRate}': z
    .object({ hourlyRate: z.number().nonnegative() })
    .transform((doc) => [{ sessionType: 'one_on_one', duration: 60, baseRate: doc.hourlyRate, currency: 'AUD', groupDiscount: 0, maxGroupSize: 1 }]),
};

/** Pricing tier to `TutorPricingTier` columns. */
export const pricingMap = mapColumns(
  (t: PricingTier) => ({ sessionType: t.sessionType, duration: t.duration, baseRate: t.baseRate, currency: t.currency, groupDiscount: t.groupDiscount, maxGroupSize: t.maxGroupSize }),
  ['sessionType', 'duration', 'baseRate', 'currency', 'groupDiscount', 'maxGroupSize'],
);

/** An address, normalised. */
export interface LegacyAddress {
  readonly streetAddress: string | null;
  readonly suburb: string | null;
  readonly city: string | null;
  readonly state: string | null;
  readonly postcode: string | null;
  readonly country: string;
  readonly latitude: number;
  readonly longitude: number;
}

const address = z
  .object({
    street: z.string().optional(),
    streetAddress: z.string().optional(),
    suburb: z.string().optional(),
    city: z.string().optional(),
    state: z.string().optional(),
    postcode: z.string().optional(),
    postalCode: z.string().optional(),
    country: z.string().optional(),
    lat: z.number().min(-90).max(90).optional(),
    lng: z.number().min(-180).max(180).optional(),
    latitude: z.number().min(-90).max(90).optional(),
    longitude: z.number().min(-180).max(180).optional(),
  })
  .transform((raw, ctx): LegacyAddress[] => {
    const latitude = raw.lat ?? raw.latitude;
    const longitude = raw.lng ?? raw.longitude;
    if (latitude === undefined || longitude === undefined) ctx.addIssue({ code: 'custom', path: ['lat'], message: 'no lat/lng or latitude/longitude' });
    return [
      {
        streetAddress: raw.street ?? raw.streetAddress ?? null,
        suburb: raw.suburb ?? null,
        city: raw.city ?? null,
        state: raw.state ?? null,
        postcode: raw.postcode ?? raw.postalCode ?? null,
        country: raw.country ?? 'Australia',
        latitude: latitude ?? 0,
        longitude: longitude ?? 0,
      },
    ];
  });

/** Location: one object with `lat/lng` or `latitude/longitude`, `postcode` or `postalCode`. */
export const locationShapes: ShapeSet<LegacyAddress> = { object: address };

/** Address to `Address` columns; the tenant comes from the parent row (`source.select: ['tenantId']`). */
export const addressMap = mapColumns(
  (a: LegacyAddress, parent) => ({ ...a, tenantId: parent.row['tenantId'] ?? null }),
  ['streetAddress', 'suburb', 'city', 'state', 'postcode', 'country', 'latitude', 'longitude', 'tenantId'],
);

/** A vote, normalised. */
export interface Vote {
  readonly userId: string;
}

const vote = z
  .record(z.string(), z.unknown())
  .transform((raw, ctx): Vote => ({ userId: pick(raw, ['userId', 'user_id', 'id'], z.string().min(1), ctx, 'userId, user_id or id') ?? '' }));

/** Votes: an array of `{userId}` / `{user_id}` / `{id}`. */
export const voteShapes: ShapeSet<Vote> = { list: z.array(vote) };

/** Vote to `LearningAssetVote` columns. */
export const voteMap = mapColumns((v: Vote) => ({ userId: v.userId }), ['userId']);
