// Plays the course platform day by day: instructors grow the catalogue, students sign up, log in,
// enrol (paying for priced courses), work through lessons, finish courses and get certificates,
// review what they took; some drop out, ask for refunds or delete their accounts. Each service's
// writes go to its own database as ordinary SQL with historical timestamps, one transaction per day.
// Ids are chosen here (AUTO_INCREMENT columns accept them), so a day's statements travel together.
import mysql from 'mysql2/promise';
import { Random } from '../common/random.ts';
import { SimulationOptionsError, validateSimulationOptions } from '../common/simulation-options.ts';
import type { PackMysqlConnections, SimulationOptions, SimulationSummary } from '../pack.ts';

export interface CoursesSimulationSummary extends SimulationSummary {
  coursesCreated: number;
  coursesPublished: number;
  sessions: number;
  enrollments: number;
  payments: number;
  refunds: number;
  lessonsCompleted: number;
  completions: number;
  certificates: number;
  reviews: number;
}

/** The planted experiment: its treatment makes a student this much likelier to come back each day. */
export const NUDGE_EXPERIMENT = 'progress_nudges';
export const NUDGE_VISIT_MULTIPLIER = 1.35;
/** The A/A experiment: two arms treated alike. */
export const AA_EXPERIMENT = 'catalog_sort_aa';

const DAY = 86_400_000;
const DEFAULT_END_DATE = new Date('2026-11-01T00:00:00Z');
/** Sunday first: students study on weekdays, less on Friday and the weekend. */
const WEEKDAY_FACTOR = [0.75, 1.1, 1.1, 1.05, 1.0, 0.9, 0.7];
const DAILY_CHURN = 0.015;
const DAILY_ACCOUNT_DELETION = 0.002;
const STALE_AFTER_DAYS = 14;
const CATEGORIES = ['Programming', 'Data Science', 'Design', 'Business', 'Languages', 'Music'];
const TAGS = [
  'beginner-friendly',
  'project-based',
  'certificate',
  'python',
  'javascript',
  'sql',
  'ux',
  'career',
];
const TOPICS = [
  'Python',
  'SQL',
  'React',
  'Statistics',
  'Figma',
  'Marketing',
  'Spanish',
  'Guitar',
  'Go',
  'Excel',
];
const LEVELS = ['BEGINNER', 'INTERMEDIATE', 'ADVANCED'] as const;
const CONTENT_TYPES = [
  ['VIDEO', 6],
  ['DOCUMENT', 2],
  ['QUIZ', 2],
  ['ASSIGNMENT', 1],
] as const;

interface Student {
  id: number;
  engagement: number;
  signedUpAt: number;
  nudged: boolean;
  churned: boolean;
  deleted: boolean;
  enrollments: Enrollment[];
}

interface Course {
  id: number;
  instructorId: number;
  title: string;
  priceCents: number;
  quality: number;
  status: 'DRAFT' | 'PUBLISHED' | 'ARCHIVED';
  publishOn: number;
  lessons: { id: number; quiz: boolean }[];
}

interface Progress {
  id: number;
  completed: boolean;
  attempts: number;
  minutes: number;
}

interface Enrollment {
  id: number;
  userId: number;
  course: Course;
  status: 'ENROLLED' | 'IN_PROGRESS' | 'COMPLETED' | 'DROPPED';
  enrolledAt: number;
  lastAccess: number;
  paymentId: number | null;
  progress: Map<number, Progress>;
  reviewId: number | null;
}

type Service = 'course' | 'user' | 'enrollment';

/** A day's statements per database, sent as one transaction each. */
class DayScript {
  readonly statements: Record<Service, string[]> = { course: [], user: [], enrollment: [] };
  count = 0;

  add(service: Service, sql: string, values: (string | number | boolean | null)[] = []): void {
    this.statements[service].push(mysql.format(sql, values));
    this.count++;
  }

  async flush(connections: Record<Service, mysql.Connection>): Promise<void> {
    for (const service of ['user', 'course', 'enrollment'] as const) {
      const statements = this.statements[service];
      for (let at = 0; at < statements.length; at += 500)
        await connections[service].query(
          `START TRANSACTION; ${statements.slice(at, at + 500).join('; ')}; COMMIT`,
        );
      this.statements[service] = [];
    }
  }
}

/** `YYYY-MM-DD HH:MM:SS` in UTC: TIMESTAMP columns hold seconds, the connections run in UTC. */
export function sqlTime(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('T', ' ').slice(0, 19);
}

export async function simulateCourses(
  mysqlConnections: PackMysqlConnections | undefined,
  options: SimulationOptions,
): Promise<CoursesSimulationSummary> {
  validateSimulationOptions(options);
  if (options.users < 1) throw new SimulationOptionsError('the courses simulation needs at least one user');
  const connection = (service: Service) => {
    const found = mysqlConnections?.[service];
    if (!found)
      throw new SimulationOptionsError(
        `the courses pack simulates into MySQL databases "course", "user" and "enrollment"; "${service}" is missing`,
      );
    return found;
  };
  const connections = {
    course: connection('course'),
    user: connection('user'),
    enrollment: connection('enrollment'),
  };
  for (const each of Object.values(connections)) await each.query("SET time_zone = '+00:00'");
  return new Simulation(connections, options).run();
}

class Simulation {
  private readonly random: Random;
  private readonly start: number;
  private readonly script = new DayScript();
  private readonly ids = {
    user: 0,
    course: 0,
    section: 0,
    content: 0,
    session: 0,
    token: 0,
    enrollment: 0,
    progress: 0,
    payment: 0,
    certificate: 0,
    review: 0,
    exposure: 0,
  };
  private readonly students: Student[] = [];
  private readonly instructors: number[] = [];
  private readonly courses: Course[] = [];
  private readonly reviews = new Map<number, Enrollment>();
  private readonly summary: CoursesSimulationSummary = {
    statements: 0,
    usersCreated: 0,
    usersDeleted: 0,
    coursesCreated: 0,
    coursesPublished: 0,
    sessions: 0,
    enrollments: 0,
    payments: 0,
    refunds: 0,
    lessonsCompleted: 0,
    completions: 0,
    certificates: 0,
    reviews: 0,
  };

  constructor(
    private readonly connections: Record<Service, mysql.Connection>,
    private readonly options: SimulationOptions,
  ) {
    this.random = new Random(options.seed);
    this.start = (options.endDate ?? DEFAULT_END_DATE).getTime() - options.days * DAY;
  }

  async run(): Promise<CoursesSimulationSummary> {
    this.setUpCatalogue();
    const signupDays = Array.from({ length: this.options.users }, () =>
      // A quarter of the students are there from the first day, the rest arrive over the period.
      this.random.chance(0.25) ? 0 : this.random.int(0, this.options.days - 1),
    ).sort((a, b) => a - b);
    let nextSignup = 0;
    for (let day = 0; day < this.options.days; day++) {
      const dayStart = this.start + day * DAY;
      const weekday = WEEKDAY_FACTOR[new Date(dayStart).getUTCDay()] ?? 1;
      while (nextSignup < signupDays.length && signupDays[nextSignup] === day) {
        this.signUp(this.at(dayStart));
        nextSignup++;
      }
      this.growCatalogue(dayStart);
      for (const student of this.students) {
        if (student.deleted || student.churned || student.signedUpAt >= dayStart + DAY) continue;
        if (this.random.chance(DAILY_CHURN)) {
          student.churned = true;
          if (this.random.chance(DAILY_ACCOUNT_DELETION / DAILY_CHURN)) this.deleteAccount(student);
          continue;
        }
        const age = (dayStart - student.signedUpAt) / DAY;
        const chance =
          student.engagement *
          weekday *
          Math.exp(-Math.max(0, age) / 40) *
          (student.nudged ? NUDGE_VISIT_MULTIPLIER : 1);
        if (this.random.chance(Math.min(0.95, chance)))
          this.visit(student, Math.max(student.signedUpAt + 60_000, this.at(dayStart)));
      }
      this.housekeeping(dayStart);
      this.summary.statements += this.script.count;
      this.script.count = 0;
      await this.script.flush(this.connections);
      this.options.onProgress?.(day + 1, this.options.days);
    }
    return this.summary;
  }

  /** A moment of the day, mostly daytime and evening. */
  private at(dayStart: number): number {
    return dayStart + Math.floor(this.random.between(7, 23.9) * 3_600_000);
  }

  private setUpCatalogue(): void {
    const created = sqlTime(this.start - 30 * DAY);
    CATEGORIES.forEach((name, index) =>
      this.script.add(
        'course',
        'INSERT INTO category (id, name, description, parent_id, created_at) VALUES (?, ?, ?, NULL, ?)',
        [index + 1, name, `${name} courses`, created],
      ),
    );
    TAGS.forEach((name, index) =>
      this.script.add('course', 'INSERT INTO tag (id, name, created_at) VALUES (?, ?, ?)', [
        index + 1,
        name,
        created,
      ]),
    );
    for (const [experiment, share] of [
      [NUDGE_EXPERIMENT, 0.5],
      [AA_EXPERIMENT, 0.5],
    ] as const)
      for (const variant of ['control', 'treatment'])
        this.script.add('user', 'INSERT INTO ab_experiment (experiment, variant, share) VALUES (?, ?, ?)', [
          experiment,
          variant,
          share,
        ]);
    const instructors = Math.max(3, Math.round(this.options.users / 25));
    for (let index = 0; index < instructors; index++)
      this.instructors.push(this.createUser(this.start - 20 * DAY + index * 3_600_000, 'INSTRUCTOR'));
    for (let index = 0; index < Math.max(6, instructors * 2); index++)
      this.createCourse(this.start - 10 * DAY + index * 3_600_000, this.start - 5 * DAY);
  }

  private createUser(at: number, role: 'STUDENT' | 'INSTRUCTOR'): number {
    const id = ++this.ids.user;
    const time = sqlTime(at);
    this.script.add(
      'user',
      `INSERT INTO user (id, email, username, password_hash, first_name, last_name, role, status, email_verified, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, 'PENDING_VERIFICATION', FALSE, ?, ?)`,
      [
        id,
        `user${id}@example.com`,
        `user${id}`,
        `$2a$10$${this.random.base64url(30)}`,
        'First',
        `Last${id}`,
        role,
        time,
        time,
      ],
    );
    this.script.add('user', 'INSERT INTO user_profile (user_id, timezone, location) VALUES (?, ?, ?)', [
      id,
      this.random.pick(['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Ho_Chi_Minh']),
      this.random.pick(['Berlin', 'New York', 'Hanoi', 'Lagos', 'São Paulo']),
    ]);
    const token = ++this.ids.token;
    this.script.add(
      'user',
      'INSERT INTO email_verification_token (id, user_id, token, email, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [token, id, this.random.hex(16), `user${id}@example.com`, sqlTime(at + DAY), time],
    );
    if (role === 'INSTRUCTOR' || this.random.chance(0.85)) {
      const verified = sqlTime(at + 5 * 60_000);
      this.script.add('user', 'UPDATE email_verification_token SET used = TRUE WHERE id = ?', [token]);
      this.script.add(
        'user',
        "UPDATE user SET email_verified = TRUE, status = 'ACTIVE', updated_at = ? WHERE id = ?",
        [verified, id],
      );
    }
    this.summary.usersCreated++;
    return id;
  }

  private signUp(at: number): void {
    const id = this.createUser(at, 'STUDENT');
    const student: Student = {
      id,
      engagement: this.random.between(0.1, 0.7),
      signedUpAt: at,
      nudged: false,
      churned: false,
      deleted: false,
      enrollments: [],
    };
    // Both experiments assign on the first catalogue visit, right after signup.
    for (const experiment of [NUDGE_EXPERIMENT, AA_EXPERIMENT]) {
      const variant = this.random.chance(0.5) ? 'treatment' : 'control';
      if (experiment === NUDGE_EXPERIMENT) student.nudged = variant === 'treatment';
      this.script.add(
        'user',
        'INSERT INTO ab_exposure (id, user_id, experiment, variant, exposed_at) VALUES (?, ?, ?, ?, ?)',
        [++this.ids.exposure, id, experiment, variant, sqlTime(at + 30_000)],
      );
    }
    this.students.push(student);
  }

  private createCourse(at: number, publishOn: number): void {
    const id = ++this.ids.course;
    const topic = this.random.pick(TOPICS);
    const level = this.random.pick(LEVELS);
    const title = `${topic} ${level.toLowerCase()} ${id}`;
    const free = this.random.chance(0.2);
    const priceCents = free ? 0 : this.random.pick([1999, 2999, 4999, 7999, 9999]);
    const course: Course = {
      id,
      instructorId: this.random.pick(this.instructors),
      title,
      priceCents,
      quality: this.random.between(0.3, 1),
      status: 'DRAFT',
      publishOn,
      lessons: [],
    };
    const time = sqlTime(at);
    this.script.add(
      'course',
      `INSERT INTO course (id, title, slug, short_description, instructor_id, category_id, price, original_price, duration_hours,
         level, status, is_free, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'DRAFT', ?, ?, ?)`,
      [
        id,
        title,
        `course-${id}`,
        `Learn ${topic}`,
        course.instructorId,
        this.random.int(1, CATEGORIES.length),
        (priceCents / 100).toFixed(2),
        (priceCents / 100).toFixed(2),
        this.random.int(2, 20),
        level,
        free,
        time,
        time,
      ],
    );
    for (const tag of this.random.sample([...TAGS.keys()], 2))
      this.script.add('course', 'INSERT INTO course_tags (course_id, tag_id) VALUES (?, ?)', [id, tag + 1]);
    let order = 0;
    for (let section = 1; section <= this.random.int(2, 3); section++) {
      const sectionId = ++this.ids.section;
      this.script.add(
        'course',
        'INSERT INTO course_section (id, course_id, title, sequence_order, created_at) VALUES (?, ?, ?, ?, ?)',
        [sectionId, id, `Part ${section}`, section, time],
      );
      for (let lesson = 1; lesson <= this.random.int(2, 4); lesson++) {
        const contentId = ++this.ids.content;
        const type = this.random.weighted(CONTENT_TYPES);
        course.lessons.push({ id: contentId, quiz: type === 'QUIZ' });
        this.script.add(
          'course',
          `INSERT INTO course_content (id, course_id, section_id, title, content_type, duration_minutes, sequence_order,
             is_preview, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [
            contentId,
            id,
            sectionId,
            `${topic} lesson ${++order}`,
            type,
            this.random.int(5, 40),
            order,
            order === 1,
            time,
            time,
          ],
        );
      }
    }
    this.courses.push(course);
    this.summary.coursesCreated++;
  }

  /** New drafts, drafts published when ready, the odd price change or retirement. */
  private growCatalogue(dayStart: number): void {
    if (this.random.chance(0.35))
      this.createCourse(this.at(dayStart), dayStart + this.random.int(1, 3) * DAY);
    for (const course of this.courses) {
      if (course.status === 'DRAFT' && course.publishOn <= dayStart) {
        const time = sqlTime(this.at(dayStart));
        course.status = 'PUBLISHED';
        this.script.add(
          'course',
          "UPDATE course SET status = 'PUBLISHED', published_at = ?, updated_at = ? WHERE id = ?",
          [time, time, course.id],
        );
        this.summary.coursesPublished++;
      }
    }
    const published = this.courses.filter((course) => course.status === 'PUBLISHED');
    if (published.length > 0 && this.random.chance(0.1)) {
      const course = this.random.pick(published);
      if (course.priceCents > 0) {
        course.priceCents = Math.max(999, course.priceCents - 1000);
        this.script.add('course', 'UPDATE course SET price = ?, updated_at = ? WHERE id = ?', [
          (course.priceCents / 100).toFixed(2),
          sqlTime(this.at(dayStart)),
          course.id,
        ]);
      }
    }
    if (published.length > 8 && this.random.chance(0.05)) {
      const course = this.random.pick(published);
      course.status = 'ARCHIVED';
      this.script.add('course', "UPDATE course SET status = 'ARCHIVED', updated_at = ? WHERE id = ?", [
        sqlTime(this.at(dayStart)),
        course.id,
      ]);
    }
  }

  private visit(student: Student, at: number): void {
    const session = ++this.ids.session;
    this.script.add(
      'user',
      'INSERT INTO user_session (id, user_id, token_hash, device_info, ip_address, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [
        session,
        student.id,
        this.random.hex(20),
        this.random.pick(['web', 'ios', 'android']),
        `10.0.${this.random.int(0, 255)}.${this.random.int(1, 254)}`,
        sqlTime(at + 7 * DAY),
        sqlTime(at),
      ],
    );
    this.script.add('user', 'UPDATE user SET last_login_at = ?, updated_at = ? WHERE id = ?', [
      sqlTime(at),
      sqlTime(at),
      student.id,
    ]);
    this.summary.sessions++;
    if (this.random.chance(0.01)) {
      const token = ++this.ids.token;
      this.script.add(
        'user',
        'INSERT INTO password_reset_token (id, user_id, token, expires_at, created_at) VALUES (?, ?, ?, ?, ?)',
        [token, student.id, this.random.hex(16), sqlTime(at + 3_600_000), sqlTime(at)],
      );
      this.script.add('user', 'UPDATE password_reset_token SET used = TRUE WHERE id = ?', [token]);
    }
    let time = at + 60_000;
    const active = student.enrollments.filter(
      (each) => each.status === 'ENROLLED' || each.status === 'IN_PROGRESS',
    );
    if (active.length < 2 && (active.length === 0 || this.random.chance(0.2))) {
      const enrolled = this.enrol(student, time);
      if (enrolled) active.push(enrolled);
      time += 120_000;
    }
    if (active.length === 0) return;
    const enrollment = this.random.pick(active);
    for (let lessons = this.random.int(1, 3); lessons > 0 && enrollment.status !== 'COMPLETED'; lessons--)
      time = this.study(enrollment, time);
    const progress = this.completedShare(enrollment);
    if (enrollment.reviewId === null && progress >= 0.5 && this.random.chance(0.3))
      this.review(enrollment, time);
    else if (enrollment.reviewId !== null && this.random.chance(0.03)) {
      this.script.add('course', 'UPDATE course_review SET rating = ?, updated_at = ? WHERE id = ?', [
        this.rating(enrollment.course),
        sqlTime(time),
        enrollment.reviewId,
      ]);
    }
  }

  private enrol(student: Student, at: number): Enrollment | undefined {
    const taken = new Set(student.enrollments.map((each) => each.course.id));
    const open = this.courses.filter((course) => course.status === 'PUBLISHED' && !taken.has(course.id));
    if (open.length === 0) return undefined;
    const course = this.random.weighted(open.map((each) => [each, each.quality] as const));
    const id = ++this.ids.enrollment;
    this.script.add(
      'enrollment',
      "INSERT INTO enrollment (id, user_id, course_id, enrollment_date, status) VALUES (?, ?, ?, ?, 'ENROLLED')",
      [id, student.id, course.id, sqlTime(at)],
    );
    const enrollment: Enrollment = {
      id,
      userId: student.id,
      course,
      status: 'ENROLLED',
      enrolledAt: at,
      lastAccess: at,
      paymentId: null,
      progress: new Map(),
      reviewId: null,
    };
    if (course.priceCents > 0) {
      const payment = ++this.ids.payment;
      this.script.add(
        'enrollment',
        "INSERT INTO payment (id, enrollment_id, amount, payment_method, transaction_id, status, created_at) VALUES (?, ?, ?, ?, ?, 'PENDING', ?)",
        [
          payment,
          id,
          (course.priceCents / 100).toFixed(2),
          this.random.pick(['card', 'paypal']),
          `tx-${this.random.hex(12)}`,
          sqlTime(at),
        ],
      );
      if (this.random.chance(0.07)) {
        // A declined card: the enrolment service removes the enrolment, payment first.
        this.script.add('enrollment', "UPDATE payment SET status = 'FAILED' WHERE id = ?", [payment]);
        this.script.add('enrollment', 'DELETE FROM payment WHERE id = ?', [payment]);
        this.script.add('enrollment', 'DELETE FROM enrollment WHERE id = ?', [id]);
        return undefined;
      }
      this.script.add(
        'enrollment',
        "UPDATE payment SET status = 'COMPLETED', payment_date = ? WHERE id = ?",
        [sqlTime(at + 30_000), payment],
      );
      this.script.add('enrollment', 'UPDATE enrollment SET payment_id = ? WHERE id = ?', [payment, id]);
      enrollment.paymentId = payment;
      this.summary.payments++;
    }
    student.enrollments.push(enrollment);
    this.summary.enrollments++;
    return enrollment;
  }

  /** One lesson worked on: the next one not completed, started or attempted again. Returns the time after. */
  private study(enrollment: Enrollment, at: number): number {
    const lesson = enrollment.course.lessons.find((each) => !enrollment.progress.get(each.id)?.completed);
    if (!lesson) return at;
    const minutes = this.random.int(3, 45);
    const end = at + minutes * 60_000;
    const completed = this.random.chance(0.8);
    const score = lesson.quiz ? this.random.int(40, 100) : null;
    let progress = enrollment.progress.get(lesson.id);
    if (!progress) {
      progress = { id: ++this.ids.progress, completed, attempts: 1, minutes };
      enrollment.progress.set(lesson.id, progress);
      this.script.add(
        'enrollment',
        `INSERT INTO progress_tracking (id, enrollment_id, content_id, completed, completed_at, time_spent_minutes, attempts_count,
           last_attempt_at, score) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?)`,
        [
          progress.id,
          enrollment.id,
          lesson.id,
          completed,
          completed ? sqlTime(end) : null,
          minutes,
          sqlTime(end),
          score,
        ],
      );
    } else {
      progress.completed = completed;
      progress.attempts++;
      progress.minutes += minutes;
      this.script.add(
        'enrollment',
        `UPDATE progress_tracking SET completed = ?, completed_at = ?, time_spent_minutes = ?, attempts_count = ?,
           last_attempt_at = ?, score = ? WHERE id = ?`,
        [
          completed,
          completed ? sqlTime(end) : null,
          progress.minutes,
          progress.attempts,
          sqlTime(end),
          score,
          progress.id,
        ],
      );
    }
    if (completed) this.summary.lessonsCompleted++;
    enrollment.lastAccess = end;
    const share = this.completedShare(enrollment);
    const done = share === 1;
    enrollment.status = done ? 'COMPLETED' : 'IN_PROGRESS';
    this.script.add(
      'enrollment',
      'UPDATE enrollment SET progress_percentage = ?, status = ?, last_accessed_at = ?, completion_date = ? WHERE id = ?',
      [(share * 100).toFixed(2), enrollment.status, sqlTime(end), done ? sqlTime(end) : null, enrollment.id],
    );
    if (done) {
      this.summary.completions++;
      const certificate = ++this.ids.certificate;
      const url = `https://certificates.example.com/${certificate}.pdf`;
      this.script.add(
        'enrollment',
        'INSERT INTO certificate (id, enrollment_id, certificate_number, issued_date, certificate_url) VALUES (?, ?, ?, ?, ?)',
        [
          certificate,
          enrollment.id,
          `CERT-${String(certificate).padStart(8, '0')}`,
          sqlTime(end + 60_000),
          url,
        ],
      );
      this.script.add(
        'enrollment',
        'UPDATE enrollment SET certificate_issued = TRUE, certificate_url = ? WHERE id = ?',
        [url, enrollment.id],
      );
      this.summary.certificates++;
    }
    return end + 60_000;
  }

  private completedShare(enrollment: Enrollment): number {
    const lessons = enrollment.course.lessons;
    return lessons.filter((lesson) => enrollment.progress.get(lesson.id)?.completed).length / lessons.length;
  }

  private rating(course: Course): number {
    return Math.max(1, Math.min(5, Math.round(course.quality * 5 + this.random.between(-1.2, 0.8))));
  }

  private review(enrollment: Enrollment, at: number): void {
    const id = ++this.ids.review;
    enrollment.reviewId = id;
    this.reviews.set(id, enrollment);
    this.script.add(
      'course',
      'INSERT INTO course_review (id, course_id, user_id, rating, review_text, is_verified, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        id,
        enrollment.course.id,
        enrollment.userId,
        this.rating(enrollment.course),
        'Thanks!',
        enrollment.paymentId !== null,
        sqlTime(at),
        sqlTime(at),
      ],
    );
    this.summary.reviews++;
  }

  /** What the services do on their own: refunds, stale enrolments dropped, reviews moderated. */
  private housekeeping(dayStart: number): void {
    for (const student of this.students)
      for (const enrollment of student.enrollments) {
        if (enrollment.status !== 'ENROLLED' && enrollment.status !== 'IN_PROGRESS') continue;
        const time = sqlTime(this.at(dayStart));
        if (
          // Refunds are granted within a week, to students who have not got far.
          enrollment.paymentId !== null &&
          dayStart - enrollment.enrolledAt < 7 * DAY &&
          this.completedShare(enrollment) < 0.3 &&
          this.random.chance(0.03)
        ) {
          this.script.add('enrollment', "UPDATE payment SET status = 'REFUNDED' WHERE id = ?", [
            enrollment.paymentId,
          ]);
          this.script.add('enrollment', "UPDATE enrollment SET status = 'DROPPED' WHERE id = ?", [
            enrollment.id,
          ]);
          enrollment.status = 'DROPPED';
          this.summary.refunds++;
        } else if (dayStart - enrollment.lastAccess > STALE_AFTER_DAYS * DAY && this.random.chance(0.1)) {
          this.script.add(
            'enrollment',
            "UPDATE enrollment SET status = 'DROPPED', last_accessed_at = ? WHERE id = ?",
            [time, enrollment.id],
          );
          enrollment.status = 'DROPPED';
        }
      }
    if (this.reviews.size > 10 && this.random.chance(0.1)) {
      const [id, enrollment] = this.random.pick([...this.reviews]);
      this.script.add('course', 'DELETE FROM course_review WHERE id = ?', [id]);
      enrollment.reviewId = null;
      this.reviews.delete(id);
    }
  }

  /**
   * Erasure on request, service by service. Rows are deleted explicitly, children first: the binary
   * log does not carry what a foreign key's ON DELETE CASCADE removes, so capture would not see it.
   */
  private deleteAccount(student: Student): void {
    for (const enrollment of student.enrollments) {
      this.script.add('enrollment', 'DELETE FROM certificate WHERE enrollment_id = ?', [enrollment.id]);
      this.script.add('enrollment', 'DELETE FROM payment WHERE enrollment_id = ?', [enrollment.id]);
      this.script.add('enrollment', 'DELETE FROM progress_tracking WHERE enrollment_id = ?', [enrollment.id]);
      this.script.add('enrollment', 'DELETE FROM enrollment WHERE id = ?', [enrollment.id]);
      if (enrollment.reviewId !== null) this.reviews.delete(enrollment.reviewId);
    }
    student.enrollments = [];
    this.script.add('course', 'DELETE FROM course_review WHERE user_id = ?', [student.id]);
    for (const table of [
      'ab_exposure',
      'user_session',
      'password_reset_token',
      'email_verification_token',
      'user_profile',
    ])
      this.script.add('user', `DELETE FROM ${table} WHERE user_id = ?`, [student.id]);
    this.script.add('user', 'DELETE FROM user WHERE id = ?', [student.id]);
    student.deleted = true;
    this.summary.usersDeleted++;
  }
}
