/**
 * Reading the query string: every parameter given once, known, well-encoded and of the accepted
 * form, else 400 with a message that names the parameter and what it accepts (and never grows with
 * what the client sent: values and lists are cut short).
 *
 * @example
 *   const query = parseQuery(PredictQuery, req.query, req.url);   // { detect: true, genderThreshold: undefined }
 */
import type { z } from 'zod';
import { HttpError } from './errors.js';
import { QUERY_ACCEPTS } from './schemas.js';

/** Longest piece of client text (a value, a name) quoted in a message. */
const QUOTE_MAX = 40;
/** Unknown parameter names listed in a message; the rest are counted. */
const LIST_MAX = 5;

function quote(text: string): string {
  return JSON.stringify(text.length > QUOTE_MAX ? `${text.slice(0, QUOTE_MAX)}…` : text);
}

function accepts(name: string): string {
  return QUERY_ACCEPTS[name as keyof typeof QUERY_ACCEPTS] ?? 'another value';
}

/** 400 INVALID_URL when the query string's percent-encoding is broken (`%zz`, a cut `%E0%A4`). */
function checkEncoding(url: string): void {
  const i = url.indexOf('?');
  if (i < 0) return;
  try {
    decodeURIComponent(url.slice(i + 1));
  } catch {
    throw new HttpError('INVALID_URL', 'the query string has bad percent-encoding (a % must be followed by two hex digits of valid UTF-8)');
  }
}

/** Parses `query` (Fastify's parsed query, from `url`) with `schema`; 400 naming the parameter otherwise. */
export function parseQuery<S extends z.ZodObject>(schema: S, query: unknown, url: string): z.output<S> {
  checkEncoding(url);
  const given = (query ?? {}) as Record<string, unknown>;
  const known = Object.keys(schema.shape);
  const unknown = Object.keys(given).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    const names = unknown.slice(0, LIST_MAX).map(quote).join(', ');
    const more = unknown.length > LIST_MAX ? ` and ${unknown.length - LIST_MAX} more` : '';
    const accepted = known.length > 0 ? `accepted: ${known.join(', ')}` : 'this route takes no query parameters';
    throw new HttpError('INVALID_ARGUMENT', `unknown query parameter${unknown.length > 1 ? 's' : ''} ${names}${more}; ${accepted}`);
  }
  for (const [name, value] of Object.entries(given)) {
    if (Array.isArray(value)) throw new HttpError('INVALID_ARGUMENT', `query parameter ${name} is given ${value.length} times: give it once, as ${accepts(name)}`);
  }
  const r = schema.safeParse(given);
  if (r.success) return r.data;
  const name = String(r.error.issues[0]?.path[0] ?? '');
  const value = given[name];
  const got = value === '' ? 'an empty value' : quote(String(value));
  throw new HttpError('INVALID_ARGUMENT', `query parameter ${name}: expected ${accepts(name)}, got ${got}`);
}
