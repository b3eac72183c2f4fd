import { AgeGenderError } from './errors.js';

/** Describes a received value the way sharp does: "spoons of type string". */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return `${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)} of type string`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${String(value)} of type ${typeof value}`;
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  return `a value of type ${typeof value}`;
}

function invalid(expected: string, name: string, value: unknown): AgeGenderError {
  return new AgeGenderError('INVALID_ARGUMENT', `Expected ${expected} for ${name} but received ${describe(value)}`);
}

export function integerInRange(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(`integer between ${min} and ${max}`, name, value);
  }
  return value;
}

export function numberInRange(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw invalid(`number between ${min} and ${max}`, name, value);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[]): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalid(`one of [${allowed.join(', ')}]`, name, value);
  }
  return value as T;
}

export function nonEmptyString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value.length === 0) throw invalid('non-empty string', name, value);
  return value;
}

/** Parses a CLI string as a number and validates it, naming the option in the error. */
export function parseNumberOption(raw: string, name: string, min: number, max: number, integer = false): number {
  const value = Number(raw);
  if (raw.trim() === '' || Number.isNaN(value)) throw invalid(integer ? 'integer' : 'number', name, raw);
  return integer ? integerInRange(value, name, min, max) : numberInRange(value, name, min, max);
}
