/**
 * Seed 001's legacy `edu` database, generated: reference data (`dictionaries` with a `type_id` but no types
 * table), an organisation tree, persons entered more than once (same pincode, or without a pincode the same
 * name and birth date), accounts whose usernames repeat, and students. No foreign keys. Per unit of `scale`:
 * 400 dictionary rows, 50 organizations, 1,000 persons, 1,000 accounts, 800 students.
 */
import { withClient } from '@prisma-evolve/core';

/** Creates and fills the legacy tables in `url` (an empty database). Deterministic for a scale. */
export async function seedEdu(url: string, scale: number): Promise<void> {
  const n = (perUnit: number): number => Math.max(1, Math.round(perUnit * scale));
  await withClient(url, (client) =>
    client.query(`
      create table dictionaries (id int primary key, type_id int, code varchar(32), name_az text, name_en text, name_ru text, parent_id int);
      -- every 20th entry has no type (the seed's WHERE type_id IS NOT NULL dropped them silently)
      insert into dictionaries select g, case when g % 20 = 0 then null else 1 + g % 12 end, 'D' || g, 'Lüğət ' || g, 'Entry ' || g, null,
        case when g > 12 and g % 3 = 0 then g - 12 end from generate_series(1, ${n(400)}) g;

      create table organizations (id int primary key, name_az text, name_en text, code varchar(16), parent_id int, type_id int, active smallint, create_date timestamp, update_date timestamp);
      insert into organizations select g, 'Təşkilat ' || g, case when g % 2 = 0 then 'Organization ' || g end, 'O' || g, case when g > 1 then 1 + (g - 2) / 5 end,
        1 + g % 3, (g % 7 <> 0)::int, timestamp '2015-01-01' + (g || ' days')::interval, null from generate_series(1, ${n(50)}) g;

      create table persons (id int primary key, pincode varchar(16), firstname text, lastname text, birthdate date);
      -- every 50th person is a second entry of person g - 5 (same pincode); every 30th has no pincode and every
      -- 60th repeats person g - 30 by name and birth date (the seed's COALESCE(pincode, name || birthdate) rule)
      insert into persons select g,
        case when g % 30 = 0 then null when g % 50 = 0 then 'P' || (g - 5) else 'P' || g end,
        case when g % 60 = 0 then 'Ad' || (g - 30) else 'Ad' || g end, case when g % 60 = 0 then 'Soyad' || (g - 30) else 'Soyad' || g end,
        date '1980-01-01' + (case when g % 60 = 0 then g - 30 else g end) from generate_series(1, ${n(1000)}) g;

      create table accounts (id int primary key, person_id int, username varchar(64), user_type int, is_blocked smallint);
      -- every 40th username repeats the one 3 before it
      insert into accounts select g, g, case when g % 40 = 0 then 'u' || (g - 3) else 'u' || g end, 1 + g % 4, (g % 97 = 0)::int from generate_series(1, ${n(1000)}) g;

      create table students (id int primary key, person_id int, card_number varchar(32), org_id int, in_order_date date, active smallint);
      insert into students select g, g, case when g % 11 = 0 then null else 'C' || g end, 1 + g % ${n(50)}, date '2019-09-01' + (g % 1200), (g % 8 <> 0)::int
      from generate_series(1, ${n(800)}) g;
      analyze;`),
  );
}
