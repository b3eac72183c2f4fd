/**
 * What protects the service from the browser side and from floods:
 *
 * - security headers on every answer (@fastify/helmet): a CSP that allows only the page's own
 *   files (`/app.js`, `/app.css`) and `data:` images, no inline code; `frame-ancestors 'none'`
 *   and X-Frame-Options; X-Content-Type-Options: nosniff; no HSTS and no
 *   upgrade-insecure-requests (the service speaks plain HTTP; a TLS proxy in front adds HSTS);
 * - CORS (@fastify/cors) only for the origins given (`--cors <origin>`), none by default, exposing
 *   Retry-After and X-Request-Id to their scripts, and
 *   cross-origin POSTs from other origins refused with 403 CROSS_ORIGIN_FORBIDDEN (a browser
 *   sends a "simple" cross-origin POST without asking first, so headers alone would not stop it);
 * - an optional per-client rate limit on the API (@fastify/rate-limit, `--rate-limit N/min`),
 *   429 RATE_LIMITED with Retry-After;
 * - an optional Host allow-list (`--allowed-hosts`), 421 HOST_NOT_ALLOWED, against DNS rebinding;
 * - the reverse proxies whose X-Forwarded-For / -Host / -Proto are believed (`--trust-proxy`; none
 *   by default, so a client cannot choose the address the rate limit and the log see). The rate
 *   limit, the log, the Host allow-list and the same-origin check then see the client and the host
 *   name the proxy was asked for (Fastify's `trustProxy`: `req.ip`, `req.host`).
 */
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HttpError } from './errors.js';

export interface SecurityOptions {
  /** Origins allowed to call the API from a browser (e.g. `https://app.example`); empty: none. */
  corsOrigins?: readonly string[];
  /** API requests per client IP per minute; absent or 0: no limit. */
  rateLimitPerMinute?: number;
  /** Host names (without port) the server answers to; absent or empty: any. */
  allowedHosts?: readonly string[];
  /**
   * Addresses of the reverse proxies in front (IPs, CIDR subnets such as `10.0.0.0/8`, or
   * `loopback`, `linklocal`, `uniquelocal`), whose X-Forwarded-* headers are believed; absent or
   * empty: none (the client is the socket's peer). Applied by `buildServer` (Fastify's `trustProxy`).
   */
  trustProxy?: readonly string[];
}

/** Names `--trust-proxy` takes for whole ranges (proxy-addr's). */
export const TRUST_PROXY_NAMES: readonly string[] = ['loopback', 'linklocal', 'uniquelocal'];

/** Fastify's `trustProxy` for these options: the list, or false when none. */
export function trustProxyOption(options: SecurityOptions | undefined): string[] | false {
  const list = options?.trustProxy ?? [];
  return list.length > 0 ? [...list] : false;
}

/** The Content-Security-Policy directives: the page's own files, data: images, nothing inline. */
export const CSP_DIRECTIVES = Object.freeze({
  defaultSrc: ["'self'"],
  scriptSrc: ["'self'"],
  styleSrc: ["'self'"],
  imgSrc: ["'self'", 'data:'],
  connectSrc: ["'self'"],
  fontSrc: ["'self'"],
  objectSrc: ["'none'"],
  baseUri: ["'none'"],
  formAction: ["'self'"],
  frameAncestors: ["'none'"],
});

const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The Host header split into name (IPv6 literals keep their brackets) and port ('' when absent). */
function splitHost(host: string | undefined): { name: string; port: string } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec((host ?? '').trim().toLowerCase());
  return { name: m?.[1] ?? '', port: m?.[2] ?? '' };
}

/**
 * The request's Origin when it is neither this server (same host and port) nor an allowed origin.
 * "This server" is the host the client asked for: the Host header, or X-Forwarded-Host from a
 * trusted proxy (`req.host`).
 */
function foreignOrigin(req: FastifyRequest, allowed: ReadonlySet<string>): string | null {
  const origin = req.headers.origin;
  if (origin === undefined || allowed.has(origin)) return null;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return origin; // "null" (sandboxed frames, file: pages) and garbage are foreign
  }
  const defaultPort = url.protocol === 'https:' ? '443' : '80';
  const host = splitHost(req.host);
  const same = url.hostname.toLowerCase() === host.name && (url.port || defaultPort) === (host.port || defaultPort);
  return same ? null : origin;
}

function registerRequestChecks(app: FastifyInstance, options: SecurityOptions): void {
  const hosts = new Set((options.allowedHosts ?? []).map((h) => h.toLowerCase()));
  const origins = new Set(options.corsOrigins ?? []);
  app.addHook('onRequest', async (req) => {
    const name = splitHost(req.host).name;
    if (hosts.size > 0 && !hosts.has(name)) {
      throw new HttpError('HOST_NOT_ALLOWED', `this server does not answer to the host name ${JSON.stringify(name)} (serve --allowed-hosts lists the names it answers to)`);
    }
    if (UNSAFE_METHODS.has(req.method)) {
      const foreign = foreignOrigin(req, origins);
      if (foreign !== null) {
        throw new HttpError('CROSS_ORIGIN_FORBIDDEN', `requests from the origin ${foreign} are not allowed (start the server with --cors ${foreign} to allow them)`);
      }
    }
  });
}

/** Registers headers, CORS, the request checks and the rate limit. */
export async function registerSecurity(app: FastifyInstance, options: SecurityOptions = {}): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: { ...CSP_DIRECTIVES } },
    strictTransportSecurity: false,
    frameguard: { action: 'deny' },
  });
  const origins = options.corsOrigins ?? [];
  if (origins.length > 0) {
    // @fastify/cors answers an OPTIONS request that is not a preflight with a plain-text 400; this
    // refuses it first, in the API's error shape.
    app.addHook('onRequest', async (req) => {
      if (req.method === 'OPTIONS' && (req.headers.origin === undefined || req.headers['access-control-request-method'] === undefined)) {
        throw new HttpError('INVALID_ARGUMENT', 'OPTIONS is answered only as a CORS preflight: send Origin and Access-Control-Request-Method');
      }
    });
    await app.register(cors, { origin: [...origins], methods: ['GET', 'POST'], maxAge: 600, exposedHeaders: ['Retry-After', 'X-Request-Id'] });
  }
  registerRequestChecks(app, options);
  const perMinute = options.rateLimitPerMinute ?? 0;
  if (perMinute > 0) {
    await app.register(rateLimit, {
      max: perMinute,
      timeWindow: 60_000,
      allowList: (req) => !req.url.startsWith('/v1/'),
      errorResponseBuilder: (_req, context) =>
        new HttpError('RATE_LIMITED', `more than ${context.max} requests a minute from this client; retry in ${Math.ceil(context.ttl / 1000)} s`, {
          'retry-after': String(Math.max(1, Math.ceil(context.ttl / 1000))),
        }),
    });
  }
}
