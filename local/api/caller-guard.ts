/**
 * Who may call the local API (README "The operator page"; docs/threat-model.md). It listens on
 * 127.0.0.1 without authentication, so the browser on the same machine is the way in for others:
 *
 * - DNS rebinding: a web page on `evil.example` re-resolves its name to 127.0.0.1 and calls us as
 *   a same-origin page of its own. Its requests still say `Host: evil.example`, so only a Host
 *   naming our own loopback address and port is served (421 Misdirected Request otherwise).
 * - CSRF: any web page may send a POST here (a form, or fetch in no-cors mode) and start or retry
 *   a request. Browsers say where such a request comes from in `Origin`, so a state-changing
 *   request whose Origin is present and not ours is refused (403). Clients without an Origin
 *   (curl, the CLI) are not browsers and are served.
 */

export interface CallerRefusal {
  status: 421 | 403;
  code: 'MISDIRECTED_REQUEST' | 'FOREIGN_ORIGIN';
  message: string;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The host names the local API answers to (it listens on 127.0.0.1 only). */
const OWN_HOSTS = ['127.0.0.1', 'localhost'] as const;

/** The `Host` values (and origins) the local API on `port` calls its own. */
export function ownHosts(port: number): string[] {
  return OWN_HOSTS.flatMap((host) => (port === 80 ? [host, `${host}:80`] : [`${host}:${port}`]));
}

export function ownOrigins(port: number): string[] {
  return OWN_HOSTS.map((host) => (port === 80 ? `http://${host}` : `http://${host}:${port}`));
}

/**
 * Why a request must be refused before it is read, or undefined. `rawHeaders` as node:http gives
 * them (name, value, name, value…): a repeated Host or Origin is refused, not resolved. Header
 * values are never quoted back: they are whatever the caller chose.
 */
export function refuseForeignCaller(
  method: string,
  rawHeaders: readonly string[],
  port: number,
): CallerRefusal | undefined {
  const hosts = headerValues(rawHeaders, 'host');
  if (hosts.length !== 1 || !ownHosts(port).includes(hosts[0]!.toLowerCase())) {
    return {
      status: 421,
      code: 'MISDIRECTED_REQUEST',
      message: `this API answers only to http://127.0.0.1:${port} and http://localhost:${port} (the Host header names another server)`,
    };
  }
  const origins = headerValues(rawHeaders, 'origin');
  if (origins.length > 0 && STATE_CHANGING.has(method.toUpperCase())) {
    if (origins.length !== 1 || !ownOrigins(port).includes(origins[0]!.toLowerCase())) {
      return {
        status: 403,
        code: 'FOREIGN_ORIGIN',
        message: `a web page of another origin may not change requests here; use the operator page at http://127.0.0.1:${port}/ or a client that sends no Origin header`,
      };
    }
  }
  return undefined;
}

function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === name) values.push(rawHeaders[i + 1]!.trim());
  }
  return values;
}
