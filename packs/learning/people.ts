// Who the simulated learners are: names, contact details, home country and time zone, devices and
// network addresses, drawn so that every learner looks plausible and emails/phones stay unique.
import type { Random } from '../common/random.ts';

/** A name, or a name in its own script with the Latin spelling used for handles and emails. */
type NameEntry = string | readonly [native: string, latin: string];

interface Culture {
  given: readonly NameEntry[];
  family: readonly NameEntry[];
  /** Vietnamese, Korean and Japanese put the family name first. */
  familyFirst: boolean;
  separator: string;
}

const CULTURES = {
  english: {
    given: [
      'James',
      'Emily',
      'Michael',
      'Sarah',
      'David',
      'Olivia',
      'Daniel',
      'Chloe',
      'Ryan',
      'Hannah',
      'Liam',
      'Grace',
      'Ethan',
      'Mia',
      'Noah',
      'Zoe',
    ],
    family: [
      'Smith',
      'Johnson',
      'Brown',
      'Taylor',
      'Wilson',
      'Miller',
      'Davis',
      'Clark',
      'Walker',
      'Young',
      "O'Brien",
      'Harris',
      'Kelly',
      'Wright',
    ],
    familyFirst: false,
    separator: ' ',
  },
  vietnamese: {
    given: [
      'Thị Lan',
      'Văn Minh',
      'Thu Hương',
      'Anh Tuấn',
      'Khánh Linh',
      'Đăng Khoa',
      'Phương Thảo',
      'Hồng Phúc',
      'Bảo Ngọc',
      'Quốc Huy',
      'Mai Anh',
      'Đức Thắng',
    ],
    family: ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Võ', 'Đặng', 'Bùi', 'Đỗ', 'Huỳnh'],
    familyFirst: true,
    separator: ' ',
  },
  french: {
    given: [
      'Camille',
      'Louis',
      'Léa',
      'Hugo',
      'Chloé',
      'Théo',
      'Manon',
      'Lucas',
      'Inès',
      'Gabriel',
      'Élodie',
      'Jérôme',
    ],
    family: [
      'Martin',
      'Bernard',
      'Dubois',
      'Lefèvre',
      'Moreau',
      'Laurent',
      'Girard',
      'Rousseau',
      'Fournier',
      'Mercier',
    ],
    familyFirst: false,
    separator: ' ',
  },
  german: {
    given: ['Lukas', 'Anna', 'Jonas', 'Lena', 'Felix', 'Sophie', 'Leon', 'Marie', 'Jürgen', 'Katrin'],
    family: [
      'Müller',
      'Schmidt',
      'Schneider',
      'Fischer',
      'Weber',
      'Becker',
      'Wagner',
      'Hoffmann',
      'Schäfer',
      'Groß',
    ],
    familyFirst: false,
    separator: ' ',
  },
  korean: {
    given: [
      ['민준', 'minjun'],
      ['서연', 'seoyeon'],
      ['지훈', 'jihoon'],
      ['수아', 'sua'],
      ['하은', 'haeun'],
      ['도윤', 'doyun'],
      ['예린', 'yerin'],
      ['현우', 'hyunwoo'],
    ],
    family: [
      ['김', 'kim'],
      ['이', 'lee'],
      ['박', 'park'],
      ['최', 'choi'],
      ['정', 'jung'],
      ['강', 'kang'],
    ],
    familyFirst: true,
    separator: '',
  },
  japanese: {
    given: [
      ['陽翔', 'haruto'],
      ['結衣', 'yui'],
      ['蓮', 'ren'],
      ['さくら', 'sakura'],
      ['大翔', 'hiroto'],
      ['美咲', 'misaki'],
      ['悠真', 'yuma'],
      ['葵', 'aoi'],
    ],
    family: [
      ['佐藤', 'sato'],
      ['鈴木', 'suzuki'],
      ['高橋', 'takahashi'],
      ['田中', 'tanaka'],
      ['渡辺', 'watanabe'],
      ['伊藤', 'ito'],
    ],
    familyFirst: true,
    separator: ' ',
  },
} satisfies Record<string, Culture>;

type CultureName = keyof typeof CULTURES;

interface Region {
  countryCode: string;
  timezone: string;
  /** Standard offset; daylight saving is ignored because only plausible local hours matter here. */
  utcOffsetHours: number;
  nativeLanguage: string;
  phonePattern: string;
  emailDomains: readonly string[];
  cultures: readonly (readonly [CultureName, number])[];
  weight: number;
}

const REGIONS: readonly Region[] = [
  {
    countryCode: 'US',
    timezone: 'America/Los_Angeles',
    utcOffsetHours: -8,
    nativeLanguage: 'en',
    phonePattern: '+1 408-###-####',
    emailDomains: ['gmail.com', 'yahoo.com', 'icloud.com'],
    cultures: [
      ['english', 3],
      ['vietnamese', 2],
    ],
    weight: 14,
  },
  {
    countryCode: 'US',
    timezone: 'America/New_York',
    utcOffsetHours: -5,
    nativeLanguage: 'en',
    phonePattern: '+1 646-###-####',
    emailDomains: ['gmail.com', 'outlook.com', 'icloud.com'],
    cultures: [
      ['english', 4],
      ['vietnamese', 1],
    ],
    weight: 10,
  },
  {
    countryCode: 'US',
    timezone: 'America/Chicago',
    utcOffsetHours: -6,
    nativeLanguage: 'en',
    phonePattern: '+1 713-###-####',
    emailDomains: ['gmail.com', 'yahoo.com'],
    cultures: [
      ['english', 3],
      ['vietnamese', 1],
    ],
    weight: 5,
  },
  {
    countryCode: 'CA',
    timezone: 'America/Toronto',
    utcOffsetHours: -5,
    nativeLanguage: 'en',
    phonePattern: '+1 416-###-####',
    emailDomains: ['gmail.com', 'hotmail.ca'],
    cultures: [
      ['english', 3],
      ['vietnamese', 1],
      ['french', 1],
    ],
    weight: 5,
  },
  {
    countryCode: 'GB',
    timezone: 'Europe/London',
    utcOffsetHours: 0,
    nativeLanguage: 'en',
    phonePattern: '+44 7### ######',
    emailDomains: ['gmail.com', 'hotmail.co.uk', 'btinternet.com'],
    cultures: [['english', 1]],
    weight: 7,
  },
  {
    countryCode: 'FR',
    timezone: 'Europe/Paris',
    utcOffsetHours: 1,
    nativeLanguage: 'fr',
    phonePattern: '+33 6 ## ## ## ##',
    emailDomains: ['orange.fr', 'gmail.com', 'free.fr'],
    cultures: [
      ['french', 4],
      ['vietnamese', 1],
    ],
    weight: 6,
  },
  {
    countryCode: 'DE',
    timezone: 'Europe/Berlin',
    utcOffsetHours: 1,
    nativeLanguage: 'de',
    phonePattern: '+49 151 ########',
    emailDomains: ['gmx.de', 'web.de', 'gmail.com'],
    cultures: [
      ['german', 5],
      ['vietnamese', 1],
    ],
    weight: 5,
  },
  {
    countryCode: 'AU',
    timezone: 'Australia/Sydney',
    utcOffsetHours: 10,
    nativeLanguage: 'en',
    phonePattern: '+61 4## ### ###',
    emailDomains: ['gmail.com', 'bigpond.com'],
    cultures: [
      ['english', 2],
      ['vietnamese', 1],
    ],
    weight: 8,
  },
  {
    countryCode: 'KR',
    timezone: 'Asia/Seoul',
    utcOffsetHours: 9,
    nativeLanguage: 'ko',
    phonePattern: '+82 10-####-####',
    emailDomains: ['naver.com', 'daum.net', 'gmail.com'],
    cultures: [['korean', 1]],
    weight: 12,
  },
  {
    countryCode: 'JP',
    timezone: 'Asia/Tokyo',
    utcOffsetHours: 9,
    nativeLanguage: 'ja',
    phonePattern: '+81 90-####-####',
    emailDomains: ['yahoo.co.jp', 'gmail.com', 'docomo.ne.jp'],
    cultures: [['japanese', 1]],
    weight: 9,
  },
  {
    countryCode: 'SG',
    timezone: 'Asia/Singapore',
    utcOffsetHours: 8,
    nativeLanguage: 'en',
    phonePattern: '+65 9### ####',
    emailDomains: ['gmail.com', 'singnet.com.sg'],
    cultures: [['english', 2]],
    weight: 4,
  },
  {
    countryCode: 'VN',
    timezone: 'Asia/Ho_Chi_Minh',
    utcOffsetHours: 7,
    nativeLanguage: 'en',
    phonePattern: '+84 9# ### ####',
    emailDomains: ['gmail.com', 'outlook.com'],
    cultures: [
      ['english', 3],
      ['korean', 1],
      ['japanese', 1],
    ],
    weight: 6,
  },
];

export interface Identity {
  username: string;
  email: string;
  phone: string | null;
  fullName: string;
  gender: 'female' | 'male' | 'other' | null;
  birthday: string;
  countryCode: string;
  timezone: string;
  utcOffsetHours: number;
  nativeLanguage: string;
}

export interface Device {
  platform: 'ios' | 'android' | 'web';
  model: string;
  osVersion: string;
  homeIp: string;
}

const BIOS = [
  'Learning Vietnamese so I can talk with my grandparents.',
  'Moving to Hà Nội next year for work!',
  'Yêu phở và cà phê sữa đá ☕',
  'Em đang học tiếng Việt để đi du lịch.',
  'Teacher in Sài Gòn, trying to finally get the tones right.',
  'Đà Nẵng lover 🌊 slowly learning the language.',
  'Heritage learner. Mẹ ơi, con đang cố gắng!',
  'Business trips to Vietnam twice a year.',
  'Tiếng Việt khó nhưng rất hay.',
  null,
] as const;

const LEARNING_GOALS = [
  'Order food in Vietnamese',
  'Talk with family',
  'Work in Vietnam',
  'Travel around Vietnam',
  'Pass the Vietnamese proficiency exam',
  'Understand Vietnamese films',
  'Read Vietnamese news',
] as const;

const DEVICE_MODELS = {
  ios: ['iPhone15,2', 'iPhone14,5', 'iPhone16,1', 'iPad13,18'],
  android: ['SM-S918B', 'Pixel 8', 'SM-A546E', 'Redmi Note 13', 'OPPO Reno10'],
  web: ['Chrome', 'Safari', 'Firefox', 'Edge'],
} as const;

export function createIdentity(random: Random, index: number, takenPhones: Set<string>): Identity {
  const region = random.weighted(REGIONS.map((candidate) => [candidate, candidate.weight] as const));
  const culture: Culture = CULTURES[random.weighted(region.cultures)];
  const given = random.pick(culture.given);
  const family = random.pick(culture.family);
  const [first, second] = culture.familyFirst ? [family, given] : [given, family];
  const handle = `${latinOf(given)}.${latinOf(family)}`;
  return {
    username: `${handle.replace('.', '_')}${index}`.slice(0, 50),
    email: `${handle}${index}@${random.pick(region.emailDomains)}`,
    phone: random.chance(0.85) ? uniquePhone(random, region.phonePattern, takenPhones) : null,
    fullName: `${nativeOf(first)}${culture.separator}${nativeOf(second)}`,
    gender: random.weighted([
      ['female', 48],
      ['male', 44],
      ['other', 2],
      [null, 6],
    ]),
    birthday: `${random.int(1962, 2008)}-${pad(random.int(1, 12))}-${pad(random.int(1, 28))}`,
    countryCode: region.countryCode,
    timezone: region.timezone,
    utcOffsetHours: region.utcOffsetHours,
    nativeLanguage: region.nativeLanguage,
  };
}

export function createDevice(random: Random): Device {
  const platform = random.weighted([
    ['ios', 5],
    ['android', 4],
    ['web', 2],
  ] as const);
  return {
    platform,
    model: random.pick(DEVICE_MODELS[platform]),
    osVersion:
      platform === 'ios'
        ? `${random.int(16, 18)}.${random.int(0, 6)}`
        : platform === 'android'
          ? String(random.int(12, 15))
          : `${random.int(118, 130)}.0`,
    homeIp: publicIpv4(random),
  };
}

export function pickBio(random: Random): string | null {
  return random.pick(BIOS);
}

export function pickLearningGoals(random: Random): string[] {
  return random.sample(LEARNING_GOALS, random.int(1, 3));
}

/** Most sessions come from home; some from a phone network or abroad. */
export function sessionIp(random: Random, device: Device): string {
  if (random.chance(0.75)) return device.homeIp;
  return random.chance(0.85)
    ? publicIpv4(random)
    : `2001:db8:${random.hex(2)}:${random.hex(2)}::${random.hex(2)}`;
}

export function userAgent(device: Device, appVersion: string): string {
  switch (device.platform) {
    case 'ios':
      return `HocTiengViet/${appVersion} (${device.model}; iOS ${device.osVersion}; Scale/3.00)`;
    case 'android':
      return `HocTiengViet/${appVersion} (Linux; Android ${device.osVersion}; ${device.model})`;
    case 'web':
      return `Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) ${device.model}/${device.osVersion} Safari/537.36`;
  }
}

function uniquePhone(random: Random, pattern: string, takenPhones: Set<string>): string {
  for (;;) {
    const phone = random.digits(pattern);
    if (takenPhones.has(phone)) continue;
    takenPhones.add(phone);
    return phone;
  }
}

/** Avoids private, loopback and multicast ranges so addresses look like real clients. */
function publicIpv4(random: Random): string {
  const firstOctet = random.pick([24, 37, 58, 67, 73, 81, 86, 92, 104, 113, 118, 121, 126, 171, 183, 203]);
  return `${firstOctet}.${random.int(0, 255)}.${random.int(0, 255)}.${random.int(1, 254)}`;
}

function nativeOf(name: NameEntry): string {
  return typeof name === 'string' ? name : name[0];
}

/** `Nguyễn Thị Lan` → `nguyenthilan`: handles and emails are ASCII. */
function latinOf(name: NameEntry): string {
  const text = typeof name === 'string' ? name : name[1];
  return text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[đĐ]/g, 'd')
    .replace(/ß/g, 'ss')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

function pad(value: number): string {
  return String(value).padStart(2, '0');
}
