/**
 * JSON Schema validation (ajv) of vendor requests. Schemas live in schemas/<vendor>/<operation>.json and
 * are the single source of truth for request shapes; this turns ajv's first error into one sentence that
 * names the field, which adapters put into their vendor's error envelope.
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import { InvalidArgumentError } from '../../core/errors';

const ajv = new Ajv({ allErrors: false, useDefaults: true, coerceTypes: false, strict: true, allowUnionTypes: true });

export type Validator<T> = (body: unknown) => T;

/** Compiles a schema into a function that returns the (defaulted) body or throws InvalidArgumentError. */
export function validator<T>(schema: object): Validator<T> {
  const validate: ValidateFunction = ajv.compile(schema);
  return (body: unknown): T => {
    const value = body === undefined ? {} : body;
    if (!validate(value)) throw toInvalidArgument(validate.errors![0]);
    return value as T;
  };
}

/** A field path as a reader writes it: tags.color, results[2].id. */
function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

function toInvalidArgument(error: ErrorObject): InvalidArgumentError {
  const at = fieldPath(error.instancePath);
  const p = error.params as Record<string, any>;
  switch (error.keyword) {
    case 'required': {
      const field = at ? `${at}.${p.missingProperty}` : p.missingProperty;
      return new InvalidArgumentError(field, `${field} is required`);
    }
    case 'additionalProperties': {
      const field = at ? `${at}.${p.additionalProperty}` : p.additionalProperty;
      return new InvalidArgumentError(field, `${field} is not a known field`);
    }
    case 'type':
      return at
        ? new InvalidArgumentError(at, `${at} must be ${article(p.type)}`)
        : new InvalidArgumentError('body', 'the request body must be a JSON object');
    case 'enum':
      return new InvalidArgumentError(at, `${at} must be one of ${p.allowedValues.map((v: unknown) => JSON.stringify(v)).join(', ')}`);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return new InvalidArgumentError(at, `${at} must be ${p.comparison} ${p.limit}`);
    case 'minLength':
      return new InvalidArgumentError(at, p.limit === 1 ? `${at} must not be empty` : `${at} must be at least ${p.limit} characters`);
    case 'maxLength':
      return new InvalidArgumentError(at, `${at} must be at most ${p.limit} characters`);
    case 'pattern':
      return new InvalidArgumentError(at, `${at} has characters that are not allowed`);
    case 'minItems':
      return new InvalidArgumentError(at, `${at} must have at least ${p.limit} item(s)`);
    case 'maxItems':
      return new InvalidArgumentError(at, `${at} must have at most ${p.limit} items`);
    case 'maxProperties':
      return new InvalidArgumentError(at, `${at} must have at most ${p.limit} keys`);
    case 'oneOf':
    case 'anyOf':
      return new InvalidArgumentError(at, `${at || 'the request'} ${error.message}`);
    default:
      return new InvalidArgumentError(at || 'body', `${at || 'the request body'} ${error.message ?? 'is invalid'}`);
  }
}

function article(type: string | string[]): string {
  const t = Array.isArray(type) ? type.join(' or ') : type;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}
