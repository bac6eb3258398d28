import type { EndpointName } from '../../lambdas/core/qualtrics/endpoints';
import { API_ROOT, buildPath } from '../../lambdas/core/qualtrics/endpoints';
import type { HttpAnswer } from './auth';
import type { CounterBook } from './counters';
import {
  CUSTOMER_DATA_FILE_CONTENT_TYPE,
  CUSTOMER_DATA_FILE_EXTENSION,
  createCustomerDataResult,
  customerDataProgressResult,
  parseCreateCustomerDataBody,
} from './customer-data-shapes';
import {
  createErasureResult,
  erasureResult,
  erasureVisibleById,
  parseCreateErasureBody,
} from './erasure-shapes';
import { filterEmails, matchesFilter, parseSearchBody } from './search-filter';
import {
  contactResult,
  decodeSkipToken,
  directoryElement,
  ERRORS,
  encodeSkipToken,
  errorEnvelope,
  searchElement,
  successEnvelope,
  whoamiResult,
} from './shapes';
import type { World } from './world';

/** The `/API/v3` endpoint handlers: auth, limits and faults are already dealt with by the server. */

export const DEFAULT_PAGE_SIZE = 100;
/** Search cannot page past the first 10,000 matches (docs/qualtrics-api.md#directories-and-contacts). */
export const SEARCH_DEPTH_LIMIT = 10_000;

export interface ApiSettings {
  pageSizeCap: number;
  timeScale: number;
  customerDataJobMs: number;
  customerDataFiles: number;
  erasureJobMs: number;
  failCustomerDataJobs: boolean;
  failErasures: boolean;
}

export interface ApiRequest {
  name: EndpointName;
  params: Record<string, string>;
  query: URLSearchParams;
  /** Parsed JSON body of a POST. */
  body: unknown;
  /** Origin the client called, for absolute `nextPage` URLs. */
  origin: string;
  now: number;
}

export function apiError(
  key: keyof typeof ERRORS,
  message?: string,
  headers?: Record<string, string>,
): HttpAnswer {
  const e = ERRORS[key];
  const status = 'status' in e ? e.status : 500;
  return { status, body: errorEnvelope(status, message ?? e.message, e.code), headers };
}

const ok = (result: unknown): HttpAnswer => ({ status: 200, body: successEnvelope(result) });

/** One page of `items`, or an error answer for a bad `pageSize` / `skipToken`. */
function paginate<T>(
  items: T[],
  req: ApiRequest,
  settings: ApiSettings,
  depthLimit?: number,
): { elements: T[]; nextPage: string | null } | HttpAnswer {
  const rawSize = req.query.get('pageSize');
  let requested = DEFAULT_PAGE_SIZE;
  if (rawSize !== null) {
    if (!/^\d{1,6}$/.test(rawSize) || Number(rawSize) < 1) {
      return apiError('validation', 'pageSize must be a positive integer');
    }
    requested = Number(rawSize);
  }
  const size = Math.max(1, Math.min(requested, settings.pageSizeCap));
  const rawToken = req.query.get('skipToken');
  let offset = 0;
  if (rawToken !== null && rawToken !== '') {
    const decoded = decodeSkipToken(rawToken);
    if (decoded === undefined) return apiError('validation', 'skipToken is not valid');
    offset = decoded;
  }
  if (depthLimit !== undefined && offset >= depthLimit) return apiError('searchTooDeep');
  const elements = items.slice(offset, offset + size);
  let nextPage: string | null = null;
  if (offset + size < items.length) {
    const next = new URL(`${API_ROOT}${buildPath(req.name, req.params)}`, req.origin);
    for (const [k, v] of req.query) if (k !== 'skipToken') next.searchParams.append(k, v);
    next.searchParams.set('skipToken', encodeSkipToken(offset + size));
    nextPage = next.toString();
  }
  return { elements, nextPage };
}

const isAnswer = (x: unknown): x is HttpAnswer => typeof x === 'object' && x !== null && 'status' in x;

export function handleApi(
  req: ApiRequest,
  world: World,
  counters: CounterBook,
  settings: ApiSettings,
): HttpAnswer {
  world.settle(req.now);
  const scaled = (simMs: number) => Math.max(0, simMs * settings.timeScale);
  const stamps = { subSecond: settings.timeScale < 1 };

  switch (req.name) {
    case 'whoami':
      return ok(whoamiResult(world.user));

    case 'listDirectories': {
      const page = paginate(world.directories.map(directoryElement), req, settings);
      return isAnswer(page) ? page : ok(page);
    }

    case 'searchDirectoryContacts': {
      const directory = world.directory(req.params.directoryId!);
      if (!directory) return apiError('notFound', 'Directory not found.');
      const parsed = parseSearchBody(req.body);
      if ('problem' in parsed) return apiError('validation', parsed.problem);
      const includeEmbedded = req.query.get('includeEmbedded') !== 'false';
      const matches = directory.contacts.filter((c) => matchesFilter(parsed.filter, c));
      const page = paginate(matches, req, settings, SEARCH_DEPTH_LIMIT);
      if (isAnswer(page)) return page;
      for (const email of new Set(filterEmails(parsed.filter).map((e) => e.toLowerCase()))) {
        counters.subject(email, 'searches');
      }
      return ok({
        elements: page.elements.map((c) => searchElement(c, includeEmbedded)),
        nextPage: page.nextPage,
      });
    }

    case 'getDirectoryContact': {
      if (!world.directory(req.params.directoryId!)) return apiError('notFound', 'Directory not found.');
      const contact = world.contact(req.params.directoryId!, req.params.contactId!);
      if (!contact) return apiError('notFound', 'Contact not found.');
      return ok(contactResult(contact));
    }

    case 'createCustomerDataRequest': {
      const parsed = parseCreateCustomerDataBody(req.body);
      if ('problem' in parsed) return apiError('validation', parsed.problem);
      const id = world.createJob({
        email: parsed.email,
        now: req.now,
        durationMs: scaled(settings.customerDataJobMs),
        fails: settings.failCustomerDataJobs,
        fileCount: settings.customerDataFiles,
      });
      counters.subject(parsed.email, 'customerDataCreates');
      return ok(createCustomerDataResult(id));
    }

    case 'getCustomerDataRequest': {
      const progress = world.jobProgress(req.params.customerDataRequestId!, req.now);
      if (!progress) return apiError('notFound', 'Customer data request not found.');
      return ok(customerDataProgressResult(progress));
    }

    case 'downloadCustomerDataFile': {
      const { customerDataRequestId, fileId } = req.params;
      const bytes = world.jobFile(customerDataRequestId!, fileId!);
      if (!bytes) return apiError('notFound', 'File not found.');
      return {
        status: 200,
        body: bytes,
        headers: {
          'Content-Type': CUSTOMER_DATA_FILE_CONTENT_TYPE,
          'Content-Disposition': `attachment; filename="${fileId}.${CUSTOMER_DATA_FILE_EXTENSION}"`,
        },
      };
    }

    case 'createErasureRequest': {
      const parsed = parseCreateErasureBody(req.body);
      if ('problem' in parsed) return apiError('validation', parsed.problem);
      const record = world.createErasure({
        emails: parsed.emails,
        searchOnly: parsed.searchOnly,
        now: req.now,
        durationMs: scaled(settings.erasureJobMs),
        fails: settings.failErasures,
      });
      for (const email of new Set(parsed.emails.map((e) => e.toLowerCase()))) {
        counters.subject(email, 'erasureCreates');
      }
      return ok(createErasureResult(record, stamps));
    }

    case 'listErasureRequests': {
      const page = paginate(world.erasureList(req.now), req, settings);
      if (isAnswer(page)) return page;
      return ok({ elements: page.elements.map((e) => erasureResult(e, stamps)), nextPage: page.nextPage });
    }

    case 'getErasureRequest': {
      const record = world.erasure(req.params.erasureRequestId!, req.now);
      if (!record || !erasureVisibleById(record.status))
        return apiError('notFound', 'Erasure request not found.');
      return ok(erasureResult(record, stamps));
    }

    case 'token':
      // Served by the token store; never routed here.
      return apiError('notFound');
  }
}
