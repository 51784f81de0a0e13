/**
 * Request parameters: the query string and the form body merged (the SDK splits one action's parameters
 * between them), then validated and coerced against schemas/alibaba/<Action>.json. Form and query values
 * are strings, so this uses its own ajv instance with type coercion ("5" → 5, "true" → true); ajv's errors
 * become the vendor's codes through PARAM_ERRORS (adapters/alibaba/errors.ts).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import common from '../../schemas/alibaba/_common.json';
import AddImage from '../../schemas/alibaba/AddImage.json';
import CheckImageExists from '../../schemas/alibaba/CheckImageExists.json';
import CompareSimilarByImage from '../../schemas/alibaba/CompareSimilarByImage.json';
import DeleteImage from '../../schemas/alibaba/DeleteImage.json';
import Detail from '../../schemas/alibaba/Detail.json';
import DumpMeta from '../../schemas/alibaba/DumpMeta.json';
import DumpMetaList from '../../schemas/alibaba/DumpMetaList.json';
import IncreaseInstance from '../../schemas/alibaba/IncreaseInstance.json';
import IncreaseList from '../../schemas/alibaba/IncreaseList.json';
import SearchImageByFilter from '../../schemas/alibaba/SearchImageByFilter.json';
import SearchImageByName from '../../schemas/alibaba/SearchImageByName.json';
import SearchImageByPic from '../../schemas/alibaba/SearchImageByPic.json';
import SearchImageByText from '../../schemas/alibaba/SearchImageByText.json';
import UpdateImage from '../../schemas/alibaba/UpdateImage.json';
import { AlibabaError, PARAM_ERRORS } from './errors';

export const ACTION_SCHEMAS = {
  AddImage,
  DeleteImage,
  UpdateImage,
  SearchImageByPic,
  SearchImageByName,
  SearchImageByText,
  SearchImageByFilter,
  CheckImageExists,
  CompareSimilarByImage,
  Detail,
  DumpMeta,
  DumpMetaList,
  IncreaseInstance,
  IncreaseList,
} as const;

export type ActionName = keyof typeof ACTION_SCHEMAS;

export const ACTIONS = Object.keys(ACTION_SCHEMAS) as ActionName[];

export function isAction(name: string): name is ActionName {
  return Object.prototype.hasOwnProperty.call(ACTION_SCHEMAS, name);
}

/** An ordered list of decoded (key, value) pairs, as the signature algorithms need them. */
export type ParamPairs = Array<[string, string]>;

/** Decodes application/x-www-form-urlencoded text (query strings too): '+' is a space, %XX bytes are UTF-8. */
export function parseForm(text: string): ParamPairs {
  return [...new URLSearchParams(text)];
}

/** Query pairs first, then body pairs; the first occurrence of a key wins. Empty values count as absent. */
export function mergeParams(query: ParamPairs, body: ParamPairs): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of [...query, ...body]) {
    if (v !== '' && !(k in out)) out[k] = v;
  }
  return out;
}

const ajv = new Ajv({ allErrors: false, coerceTypes: true, useDefaults: true, strict: true, allowUnionTypes: true });
ajv.addSchema(common);
const compiled = new Map<ActionName, ValidateFunction>();

function compiledFor(action: ActionName): ValidateFunction {
  let v = compiled.get(action);
  if (!v) {
    v = ajv.compile(ACTION_SCHEMAS[action]);
    compiled.set(action, v);
  }
  return v;
}

/** The action's parameters, coerced and defaulted, or the vendor's error for the first bad one. */
export function validateParams<T>(action: ActionName, params: Record<string, string>): T {
  const value: Record<string, unknown> = { ...params };
  const validate = compiledFor(action);
  if (!validate(value)) throw paramError(validate.errors![0]);
  applyDefaults(action, value);
  return value as T;
}

/** ajv does not apply `default` through $ref: the common definitions' defaults are filled in here. */
function applyDefaults(action: ActionName, value: Record<string, unknown>): void {
  const properties = ACTION_SCHEMAS[action].properties as Record<string, { $ref?: string; default?: unknown }>;
  const definitions = common.definitions as Record<string, { default?: unknown }>;
  for (const [name, schema] of Object.entries(properties)) {
    if (value[name] !== undefined) continue;
    const target = schema.$ref ? definitions[schema.$ref.split('/').pop()!] : schema;
    if (target?.default !== undefined) value[name] = target.default;
  }
}

function paramError(error: ErrorObject): AlibabaError {
  const p = error.params as Record<string, unknown>;
  const field = error.keyword === 'required' ? String(p.missingProperty) : error.instancePath.split('/')[1] ?? '';
  const codes = PARAM_ERRORS[field];
  if (!codes) return AlibabaError.badRequest(`The parameter ${field} is invalid.`);
  if (error.keyword === 'required') return new AlibabaError(codes.missing ?? codes.invalid);
  if (codes.overflow && (error.keyword === 'maximum' || error.keyword === 'maxLength')) return new AlibabaError(codes.overflow);
  return new AlibabaError(codes.invalid);
}
