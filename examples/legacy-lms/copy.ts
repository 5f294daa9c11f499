/**
 * Seed 004 as a copy plan: the legacy LMS (legacy.ts) into edu_v2 (schema.prisma). Integer ids become UUIDs
 * through the id map; duplicates collapse onto their first row (users by lower-case username, persons by
 * pincode, courses by code) and whatever referred to a duplicate follows its survivor; one legacy `course`
 * table becomes courses and their offerings; names in three columns become one JSON object; rows that refer
 * to nothing, or hold values the new schema rejects, become dead letters with the reason.
 */
import { defineCopy, expr, multilingual, ref, sqlExpression } from '@prisma-evolve/core';

const uuid = { column: 'id', generate: 'uuid' } as const;
const names = multilingual({ az: 'name_az', ru: 'name_ru', en: 'name_en' });

export const copy = defineCopy({
  name: 'legacy-lms',
  batchSize: 5000,
  tables: {
    users: {
      phase: 1,
      table: 'User',
      from: 'users',
      key: 'id',
      id: uuid,
      dedupe: { by: [sqlExpression('lower(s.username)')] },
      columns: { username: expr('lower(s.username)'), email: 'email', name: names, createdAt: 'create_date' },
    },
    persons: {
      phase: 1,
      table: 'Person',
      from: 'persons',
      key: 'id',
      id: uuid,
      // An empty or missing pincode identifies nobody: such persons are never collapsed.
      dedupe: { by: [sqlExpression(`nullif(btrim(s.pincode), '')`)] },
      columns: { userId: ref('users', 'user_id'), pincode: 'pincode', firstName: 'firstname', lastName: 'lastname', birthDate: 'birthdate' },
    },
    organizations: {
      phase: 2,
      table: 'OrganizationUnit',
      from: 'organizations',
      key: 'id',
      id: uuid,
      columns: { parentId: ref('organizations', 'parent_id'), type: expr(`(array['university', 'faculty', 'department'])[s.type_id]`), name: names },
    },
    students: {
      phase: 2,
      table: 'Student',
      from: 'students',
      key: 'id',
      id: uuid,
      columns: {
        personId: ref('persons', 'person_id'),
        studentNumber: expr(`coalesce(s.card_number, 'STU' || s.id)`),
        organizationId: ref('organizations', 'org_id'),
        admissionYear: expr('extract(year from s.in_order_date)::int'),
        status: expr(`case when s.active = 1 then 'active' else 'graduated' end`),
      },
    },
    staff: {
      phase: 2,
      table: 'StaffMember',
      from: 'teachers',
      key: 'id',
      id: uuid,
      columns: { personId: ref('persons', 'person_id'), employeeId: 'card_number', organizationId: ref('organizations', 'org_id'), hireDate: 'in_action_date' },
    },
    courses: {
      phase: 3,
      table: 'Course',
      from: 'course',
      key: 'id',
      id: uuid,
      dedupe: { by: [sqlExpression('s.code')] },
      columns: { code: 'code', name: names, creditHours: 'credit' },
    },
    offerings: {
      phase: 3,
      table: 'CourseOffering',
      from: 'course',
      key: 'id',
      id: uuid,
      columns: { courseId: ref('courses', 'id'), termCode: 'term', sectionCode: 'section', teacherId: ref('staff', 'teacher_id') },
    },
    grades: {
      phase: 4,
      table: 'Grade',
      from: 'grades',
      key: 'id',
      // Nothing refers to a grade: its legacy id is kept in legacyId (no id map), and Prisma's default gives the UUID.
      id: { column: 'legacyId', generate: 'keep' },
      columns: { studentId: ref('students', 'student_id'), offeringId: ref('offerings', 'course_id'), value: 'value', gradedAt: 'graded_at' },
    },
  },
});
