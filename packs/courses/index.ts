// The "courses" source pack (seed 003): a course platform on MySQL with three services, each its own
// database — course_db (catalogue, reviews), user_db (accounts, sessions) and enrollment_db
// (enrolments, progress, certificates, payments) — and a simulator that plays its instructors and
// students.
import type { SourcePack } from '../pack.ts';
import { COURSES_DATABASES, coursesMapping } from './mapping.ts';
import { COURSES_HEADLINE, COURSES_MARTS } from './marts.ts';
import { simulateCourses } from './simulator.ts';
import { coursesTargets } from './writeback.ts';

export { COURSES_AB_METRICS, COURSES_DATABASES, coursesMirror } from './mapping.ts';
export { AA_EXPERIMENT, NUDGE_EXPERIMENT, NUDGE_VISIT_MULTIPLIER, simulateCourses } from './simulator.ts';

export const coursesPack: SourcePack = {
  name: 'courses',
  description:
    'Course platform on MySQL, a database per service: catalogue and reviews, accounts and sessions, enrolments with progress, certificates and payments.',
  postgres: [],
  mysql: { databases: COURSES_DATABASES },
  mapping: coursesMapping,
  marts: COURSES_MARTS,
  writeback: { collections: [], targets: coursesTargets },
  headline: COURSES_HEADLINE,
  simulate: (_postgres, options) => simulateCourses(options.mysql, options),
};
