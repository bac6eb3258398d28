import { type DsrEvent, localEvents } from '../../lambdas/core/events';
import { requiredScopes } from '../../lambdas/core/qualtrics/endpoints';
import { stepLogger } from '../../lambdas/middleware';
import {
  defaultSeed,
  type SeedContact,
  type SeedSurveyResponse,
  type SimulatorClient,
  type SimulatorSeed,
} from '../../local/simulator';

/**
 * Leak canaries (docs/threat-model.md#leaks-a1-a2-across-b6): a canary subject email and a canary
 * OAuth client secret that end-to-end tests run with, and a scanner that looks for them — and for
 * any other value a test asks it to watch — in every log line, execution event, emitted event,
 * error message, CLI output and metric line it is shown. A canary may appear only in the request
 * record and the bundle.
 *
 * Every form counts: raw, lower and upper case (the search is case-insensitive), URL-encoded, and
 * for the secret the Base64 of the HTTP Basic credentials it travels in. Every canary carries
 * {@link CANARY_MARKER}, a token no real value contains (it is not hex, so it is never part of a
 * UUID or a hash), so a fragment of one (a local part, a contact's name) is caught as well.
 */

export const CANARY_MARKER = 'zqcanary';

/** A canary subject: `zqcanary.<tag>@example.org` (tag: letters and digits). */
export function canaryEmail(tag = 'subject'): string {
  if (!/^[a-z0-9]+$/.test(tag)) throw new Error('canary tag: lower-case letters and digits only');
  return `${CANARY_MARKER}.${tag}@example.org`;
}

export const CANARY_EMAIL = canaryEmail();

/** Mixed case, so its lower- and upper-case forms differ from it. */
export const CANARY_SECRET = 'ZqCanary-Secret-7Kp2Vx9Lm4Rt';

/** An OAuth client of the simulator whose secret is the canary, granted every scope the connector needs. */
export const CANARY_CLIENT: SimulatorClient = {
  clientId: 'qdsr-canary-client',
  clientSecret: CANARY_SECRET,
  scopes: requiredScopes(),
};

/** Env of a connector run that authenticates with the canary client. */
export const CANARY_CLIENT_ENV = {
  QUALTRICS_CLIENT_ID: CANARY_CLIENT.clientId,
  QUALTRICS_CLIENT_SECRET: CANARY_SECRET,
} as const;

/**
 * The simulator's default brand plus each canary subject: a contact in two directories (the second
 * with the email upper-cased), named after the marker, and two survey responses, so an access run
 * carries the canary through searches, contact records and customer-data files.
 */
export function canarySeed(emails: readonly string[] = [CANARY_EMAIL]): SimulatorSeed {
  const seed = defaultSeed();
  const template = seed.directories[0]?.contacts[0];
  const survey = seed.responses[0];
  if (!template || !survey) throw new Error('the default seed changed: no contact or response to copy');
  emails.forEach((email, i) => {
    const serial = String(i).padStart(4, '0');
    for (const [n, offset] of [0, 1].entries()) {
      const directory = seed.directories[(i + offset) % seed.directories.length]!;
      const contact: SeedContact = {
        ...structuredClone(template),
        contactId: `CID_CNRY${serial}${n}ABCDEF`,
        firstName: 'Zqcanary',
        lastName: `Subject${serial}`,
        email: n === 0 ? email : email.toUpperCase(),
        extRef: `CNRY-${serial}-${n}`,
        mailingLists: [],
      };
      directory.contacts.push(contact);
    }
    for (let r = 0; r < 2; r++) {
      const response: SeedSurveyResponse = {
        ...structuredClone(survey),
        responseId: `R_CNRY${serial}${r}ABCDEFG`,
        email,
        values: { ...survey.values, comment: `Zqcanary answer ${r + 1}` },
      };
      seed.responses.push(response);
    }
  });
  return seed;
}

export interface LeakHit {
  /** Where it was seen: `log`, `execution events`, `event`, `error`, `cli output`, … */
  source: string;
  /** Which canary or watched value matched, and in which form. */
  what: string;
  /** Up to 40 characters either side of the hit. */
  excerpt: string;
}

interface Needle {
  what: string;
  text: string;
  /** Compared against the lower-cased haystack (text is lower case) or verbatim. */
  caseInsensitive: boolean;
}

/** A leak only counts when a watched value is at least this long (a one-letter secret is everywhere). */
const MIN_WATCHED_LENGTH = 6;

export interface LeakScannerOptions {
  /** Also watch these (subject emails, other secrets), in every form. */
  watch?: readonly string[];
}

/**
 * Collects what a test shows it (`scan`) or what it captures itself (`captureOutput`,
 * `subscribeEvents`) and remembers every canary hit. `assertClean()` throws with the hits.
 */
export class LeakScanner {
  readonly hits: LeakHit[] = [];
  /** Items scanned per source, so a test can show the scanner saw something. */
  readonly scanned: Record<string, number> = {};
  private readonly needles: Needle[] = [];

  constructor(options: LeakScannerOptions = {}) {
    this.addNeedle(`canary marker ${CANARY_MARKER}`, CANARY_MARKER, true);
    this.watch(CANARY_EMAIL, 'canary email');
    this.watch(CANARY_SECRET, 'canary client secret');
    // HTTP Basic credentials carry the secret Base64-encoded (as given, and form-encoded).
    for (const [id, secret] of [
      [CANARY_CLIENT.clientId, CANARY_SECRET],
      [encodeURIComponent(CANARY_CLIENT.clientId), encodeURIComponent(CANARY_SECRET)],
    ] as const) {
      this.addNeedle('canary client secret (Basic credentials)', basic(id, secret), false);
    }
    for (const value of options.watch ?? []) this.watch(value);
  }

  /** Watches `value` (raw/lower/upper case, URL-encoded) from now on. Values shorter than 6 are ignored. */
  watch(value: string, label = 'watched value'): void {
    if (typeof value !== 'string' || value.length < MIN_WATCHED_LENGTH) return;
    const forms = new Set([value, encodeURIComponent(value), encodeURIComponent(value).replace(/%40/g, '@')]);
    for (const form of forms) {
      const what = form === value ? label : `${label} (URL-encoded)`;
      this.addNeedle(what, form.toLowerCase(), true);
    }
  }

  /** Scans one item now: a string as it is, anything else as its JSON. */
  scan(source: string, content: unknown): void {
    if (content === undefined) return;
    let text: string;
    if (typeof content === 'string') text = content;
    else if (Buffer.isBuffer(content) || content instanceof Uint8Array)
      text = Buffer.from(content).toString('utf8');
    else {
      try {
        text = JSON.stringify(content) ?? String(content);
      } catch {
        text = String(content);
      }
    }
    this.scanned[source] = (this.scanned[source] ?? 0) + 1;
    const lower = text.toLowerCase();
    for (const n of this.needles) {
      const at = n.caseInsensitive ? lower.indexOf(n.text) : text.indexOf(n.text);
      if (at < 0) continue;
      this.hits.push({
        source,
        what: n.what,
        excerpt: text.slice(Math.max(0, at - 40), at + n.text.length + 40),
      });
    }
  }

  /** How many hits came from `source` (all sources when omitted). */
  count(source?: string): number {
    return source === undefined ? this.hits.length : this.hits.filter((h) => h.source === source).length;
  }

  /**
   * Scans everything written to stdout and stderr (Powertools log lines, EMF metric lines, anything
   * printed) until the returned function is called. The step logger logs at `logLevel` meanwhile
   * (default DEBUG), so there are lines to scan. With `quiet` (default), log lines are kept off the
   * terminal; everything else passes through.
   */
  captureOutput(options: { logLevel?: string; quiet?: boolean } = {}): () => void {
    const quiet = options.quiet ?? true;
    const previousLevel = stepLogger.getLevelName();
    stepLogger.setLogLevel((options.logLevel ?? 'DEBUG') as 'DEBUG');
    const restores = [process.stdout, process.stderr].map((stream) => {
      const original = stream.write;
      const source = stream === process.stdout ? 'stdout' : 'stderr';
      stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
        const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
        const isLog = text.includes('"service":"qualtrics-dsr"') || text.includes('"_aws":');
        this.scan(isLog ? 'log' : source, text);
        if (quiet && isLog) {
          const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
          done?.();
          return true;
        }
        return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
      }) as typeof stream.write;
      return () => {
        stream.write = original;
      };
    });
    return () => {
      for (const restore of restores) restore();
      stepLogger.setLogLevel(previousLevel as 'DEBUG');
    };
  }

  /** Scans every connector event published in-process (`localEvents`) until the returned function is called. */
  subscribeEvents(): () => void {
    return localEvents.subscribe((e: DsrEvent) => this.scan('event', e));
  }

  /** Throws, listing the hits, when any canary or watched value was seen. */
  assertClean(context = 'leak canaries'): void {
    if (this.hits.length === 0) return;
    const lines = this.hits.slice(0, 10).map((h) => `  ${h.source}: ${h.what}: …${h.excerpt}…`);
    const more = this.hits.length > 10 ? `\n  … and ${this.hits.length - 10} more` : '';
    throw new Error(`${context}: ${this.hits.length} hit(s)\n${lines.join('\n')}${more}`);
  }

  private addNeedle(what: string, text: string, caseInsensitive: boolean): void {
    if (!this.needles.some((n) => n.text === text && n.caseInsensitive === caseInsensitive)) {
      this.needles.push({ what, text, caseInsensitive });
    }
  }
}

function basic(id: string, secret: string): string {
  return Buffer.from(`${id}:${secret}`, 'utf8').toString('base64');
}
