/**
 * Seed 001 as a copy plan: legacy `edu` into edu_new (schema.prisma), ids kept. The reference table the legacy
 * database never had (dictionary types) is built from the distinct type ids; dictionary rows without a type are
 * dead letters ("filtered by where"), not silently dropped; persons are deduplicated by the seed's rule
 * (the pincode, else name and birth date; lowest id wins), and the accounts and students of a duplicate follow
 * its survivor; usernames that repeat collapse onto the first account. `copy cutover` sets every sequence.
 */
import { defineCopy, expr, ref, sqlExpression } from '@prisma-evolve/core';

export const copy = defineCopy({
  name: 'edu-new',
  batchSize: 2000,
  tables: {
    dictionaryTypes: {
      table: 'dictionary_types',
      from: sqlExpression('select distinct type_id as id from dictionaries where type_id is not null'),
      key: 'id',
      columns: { code: expr(`'TYPE_' || s.id`), name_az: expr(`'Legacy Type ' || s.id`) },
    },
    dictionaries: {
      table: 'dictionaries',
      from: 'dictionaries',
      key: 'id',
      where: sqlExpression('s.type_id is not null'),
      columns: { type_id: ref('dictionaryTypes', 'type_id'), code: 'code', name_az: 'name_az', name_en: 'name_en', name_ru: 'name_ru', parent_id: ref('dictionaries', 'parent_id') },
    },
    organizations: {
      table: 'organizations',
      from: 'organizations',
      key: 'id',
      columns: {
        name_az: 'name_az',
        name_en: 'name_en',
        code: 'code',
        parent_id: ref('organizations', 'parent_id'),
        is_active: expr('s.active = 1'),
        created_at: 'create_date',
        updated_at: 'update_date',
      },
    },
    persons: {
      table: 'persons',
      from: 'persons',
      key: 'id',
      // The seed's rule, made safe: an empty pincode is no pincode, and names are compared trimmed and lower-case.
      dedupe: { by: [sqlExpression(`coalesce(nullif(btrim(s.pincode), ''), lower(btrim(s.firstname)) || '|' || lower(btrim(s.lastname)) || '|' || s.birthdate::text)`)] },
      columns: { pincode: 'pincode', first_name: 'firstname', last_name: 'lastname', birth_date: 'birthdate' },
    },
    users: {
      table: 'users',
      from: 'accounts',
      key: 'id',
      dedupe: { by: [sqlExpression('lower(s.username)')] },
      columns: {
        person_id: ref('persons', 'person_id'),
        username: 'username',
        user_type: expr(`case s.user_type when 1 then 'student' when 2 then 'teacher' when 3 then 'admin' else 'staff' end`),
        is_blocked: expr('s.is_blocked = 1'),
      },
    },
    students: {
      table: 'students',
      from: 'students',
      key: 'id',
      columns: {
        person_id: ref('persons', 'person_id'),
        student_id_number: expr(`coalesce(s.card_number, 'STU' || s.id)`),
        organization_id: ref('organizations', 'org_id'),
        admission_year: expr('extract(year from s.in_order_date)::int'),
        status: expr(`case when s.active = 1 then 'active' else 'graduated' end`),
      },
    },
  },
});
