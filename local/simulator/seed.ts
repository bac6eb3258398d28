import { alnum, mulberry32 } from './prng';

/**
 * The simulator's built-in brand: one admin user, four XM Directories, named subjects and ~200
 * filler contacts, and synthetic survey responses for the customer-data files. Every person here
 * is invented and every address is under example.com/.org/.net (RFC 2606).
 *
 * Deterministic: `defaultSeed()` derives every id from a fixed PRNG seed each time it is called
 * (nothing random at module load), so two simulators hold the same brand.
 */

/** Present in 3 of the 4 directories, twice (different casing) in one of them. */
export const SEEDED_SUBJECT = 'someone@example.com';

export interface SeedUser {
  brandId: string;
  userId: string;
  userName: string;
  accountType: string;
  firstName: string;
  lastName: string;
  email: string;
  datacenter: string;
}

export interface SeedMailingListMembership {
  mailingListId: string;
  contactLookupId: string;
  name: string;
  unsubscribed: boolean;
  unsubscribeDate: number | null;
  ownerId: string;
}

export interface SeedContact {
  contactId: string;
  firstName: string;
  lastName: string;
  email: string;
  phone: string;
  extRef: string;
  language: string;
  embeddedData: Record<string, string>;
  unsubscribed: boolean;
  /** Epoch ms. */
  unsubscribeDate: number | null;
  /** Epoch ms. */
  creationDate: number;
  /** Epoch ms. */
  lastModified: number;
  emailCount: number;
  inviteCount: number;
  responseCount: number;
  mailingLists: SeedMailingListMembership[];
}

export interface SeedDirectory {
  directoryId: string;
  name: string;
  isDefault: boolean;
  contacts: SeedContact[];
}

/** A survey response linked to a subject's email: what a customer-data file carries. */
export interface SeedSurveyResponse {
  responseId: string;
  surveyId: string;
  surveyName: string;
  email: string;
  /** ISO-8601. */
  recordedDate: string;
  values: Record<string, string | number>;
}

export interface SimulatorSeed {
  /** Seeds the fault injector's PRNG unless the options give one. */
  randomSeed?: number;
  user: SeedUser;
  directories: SeedDirectory[];
  responses: SeedSurveyResponse[];
  /** Static `X-API-TOKEN` values, each granted every scope (`manage:all`). */
  apiTokens?: string[];
}

const SEED_PRNG = 20_260_101;
const BASE_DATE = Date.UTC(2023, 4, 16, 17, 59, 31);
const HOUR = 3_600_000;

const FIRST_NAMES = [
  'Avery',
  'Blake',
  'Casey',
  'Devon',
  'Emerson',
  'Finley',
  'Harper',
  'Jordan',
  'Kendall',
  'Logan',
  'Morgan',
  'Parker',
  'Quinn',
  'Reese',
  'Rowan',
  'Sawyer',
  'Skyler',
  'Taylor',
];
const LAST_NAMES = [
  'Archer',
  'Bell',
  'Carter',
  'Dalton',
  'Ellis',
  'Foster',
  'Grant',
  'Hayes',
  'Irwin',
  'Keller',
  'Lowe',
  'Mercer',
  'Nash',
  'Porter',
  'Reed',
  'Sutton',
];
const DOMAINS = ['example.com', 'example.org', 'example.net'];
const FILLER_COUNT = 200;

interface NamedContact {
  directory: number;
  email: string;
  firstName: string;
  lastName: string;
}

/** Named subjects: which directory (index) holds a contact with which exact email casing. */
const NAMED: NamedContact[] = [
  { directory: 0, email: 'someone@example.com', firstName: 'Sam', lastName: 'One' },
  { directory: 0, email: 'Someone@Example.COM', firstName: 'Samantha', lastName: 'One' },
  { directory: 1, email: 'someone@example.com', firstName: 'Sam', lastName: 'One' },
  { directory: 2, email: 'SOMEONE@example.com', firstName: 'Sam', lastName: 'One' },
  // A shared family mailbox: three contacts in one directory, so a search pages three times.
  { directory: 0, email: 'pat.doe@example.org', firstName: 'Pat', lastName: 'Doe' },
  { directory: 0, email: 'Pat.Doe@example.org', firstName: 'Patricia', lastName: 'Doe' },
  { directory: 0, email: 'PAT.DOE@EXAMPLE.ORG', firstName: 'Patrick', lastName: 'Doe' },
  { directory: 1, email: 'alex.jones@example.org', firstName: 'Alex', lastName: 'Jones' },
  { directory: 3, email: 'alex.jones@example.org', firstName: 'Alex', lastName: 'Jones' },
  { directory: 2, email: 'maria.garcia@example.net', firstName: 'Maria', lastName: 'Garcia' },
  { directory: 0, email: 'sam.lee@example.com', firstName: 'Sam', lastName: 'Lee' },
  { directory: 3, email: 'sam.lee@example.com', firstName: 'Sam', lastName: 'Lee' },
];

const DIRECTORY_NAMES = ['Customers', 'Newsletter', 'Events', 'Partners'];

const SURVEYS = [
  { name: 'Customer satisfaction', questions: ['QID1', 'QID2', 'QID3'] },
  { name: 'Event feedback', questions: ['QID1', 'QID4'] },
  { name: 'Product research', questions: ['QID2', 'QID5', 'QID6'] },
];

/** Responses per named subject (lowercased email); others have none. */
const RESPONSES_PER_SUBJECT: Record<string, number> = {
  'someone@example.com': 3,
  'pat.doe@example.org': 2,
  'alex.jones@example.org': 1,
};

export function defaultSeed(): SimulatorSeed {
  const random = mulberry32(SEED_PRNG);
  const usedIds = new Set<string>();
  const id = (prefix: string): string => {
    for (;;) {
      const candidate = prefix + alnum(15, random);
      if (!usedIds.has(candidate)) {
        usedIds.add(candidate);
        return candidate;
      }
    }
  };

  const user: SeedUser = {
    brandId: 'qdsrlocal',
    userId: id('UR_'),
    userName: 'admin#qdsrlocal',
    accountType: 'UT_BRANDADMIN',
    firstName: 'Local',
    lastName: 'Admin',
    email: 'admin@example.com',
    datacenter: 'sim1',
  };

  const directories: SeedDirectory[] = DIRECTORY_NAMES.map((name, i) => ({
    directoryId: id('POOL_'),
    name,
    isDefault: i === 0,
    contacts: [],
  }));
  const mailingLists = directories.map((d) => ({ mailingListId: id('CG_'), name: `${d.name} mailing list` }));

  let serial = 0;
  const contact = (directory: number, email: string, firstName: string, lastName: string): SeedContact => {
    serial++;
    const created = BASE_DATE + serial * HOUR;
    const list = mailingLists[directory]!;
    const inList = serial % 3 !== 0;
    return {
      contactId: id('CID_'),
      firstName,
      lastName,
      email,
      phone: `555-01${String(serial % 100).padStart(2, '0')}-${String(1000 + serial).slice(-4)}`,
      extRef: `EXT-${String(serial).padStart(5, '0')}`,
      language: serial % 5 === 0 ? 'DE' : 'EN',
      embeddedData: { tier: ['bronze', 'silver', 'gold'][serial % 3]!, source: 'seed' },
      unsubscribed: serial % 11 === 0,
      unsubscribeDate: serial % 11 === 0 ? created + 24 * HOUR : null,
      creationDate: created,
      lastModified: created + 2 * HOUR,
      emailCount: serial % 4,
      inviteCount: serial % 3,
      responseCount: serial % 2,
      mailingLists: inList
        ? [
            {
              mailingListId: list.mailingListId,
              contactLookupId: id('CGC_'),
              name: list.name,
              unsubscribed: false,
              unsubscribeDate: null,
              ownerId: user.userId,
            },
          ]
        : [],
    };
  };

  for (const n of NAMED) {
    directories[n.directory]!.contacts.push(contact(n.directory, n.email, n.firstName, n.lastName));
  }
  for (let i = 0; i < FILLER_COUNT; i++) {
    const first = FIRST_NAMES[i % FIRST_NAMES.length]!;
    const last = LAST_NAMES[Math.floor(i / FIRST_NAMES.length) % LAST_NAMES.length]!;
    const domain = DOMAINS[i % DOMAINS.length]!;
    const email = `${first}.${last}.${String(i + 1).padStart(3, '0')}@${domain}`.toLowerCase();
    const dir = i % directories.length;
    directories[dir]!.contacts.push(contact(dir, email, first, last));
  }

  const surveys = SURVEYS.map((s) => ({ ...s, surveyId: id('SV_') }));
  const responses: SeedSurveyResponse[] = [];
  for (const [email, count] of Object.entries(RESPONSES_PER_SUBJECT)) {
    for (let i = 0; i < count; i++) {
      const survey = surveys[(responses.length + i) % surveys.length]!;
      const values: Record<string, string | number> = {};
      for (const q of survey.questions) values[q] = 1 + Math.floor(random() * 5);
      values.comment = `Synthetic answer ${i + 1} for ${survey.name.toLowerCase()}.`;
      responses.push({
        responseId: id('R_'),
        surveyId: survey.surveyId,
        surveyName: survey.name,
        email,
        recordedDate: new Date(BASE_DATE + (responses.length + 1) * 24 * HOUR).toISOString(),
        values,
      });
    }
  }

  return { randomSeed: 1, user, directories, responses, apiTokens: ['qdsr-local-api-token'] };
}
