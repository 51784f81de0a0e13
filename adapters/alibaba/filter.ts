/**
 * The Alibaba `Filter` language → core's filter AST (shared/specs/alibaba.md §3).
 *
 *   Filter    := Or
 *   Or        := And { OR And }                 AND binds tighter than OR, as in SQL
 *   And       := Primary { AND Primary }
 *   Primary   := "(" Or ")" | Condition
 *   Condition := IntField IntOp Integer
 *              | StrField ("=" | "!=") String
 *              | Field [NOT] IN "(" Value { "," Value } ")"
 *   IntField  := int_attr | int_attr2 | int_attr3 | int_attr4
 *   StrField  := str_attr | str_attr2 | str_attr3 | str_attr4
 *   IntOp     := "=" | "!=" | ">" | ">=" | "<" | "<="
 *   String    := "..." | '...'                 (a backslash escapes the next character)
 *
 * Keywords are case-insensitive. Decisions where the vendor's pages disagree or are silent (UNVERIFIED,
 * docs/compatibility/alibaba.md): `in` / `not in` and `!=` on int_attr are accepted (the SDK model lists
 * them), parentheses are accepted, the length limit is MAX_FILTER_LENGTH. Anything else is
 * InvalidFilterClause. Fields are the tag names the adapter stores the attributes under (keys.ts).
 */
import { f, type Filter } from '../../core/filter';
import type { TagValue } from '../../core/records';
import { AlibabaError } from './errors';
import { MAX_FILTER_LENGTH } from './limits';

export const INT_FIELDS = ['int_attr', 'int_attr2', 'int_attr3', 'int_attr4'] as const;
export const STR_FIELDS = ['str_attr', 'str_attr2', 'str_attr3', 'str_attr4'] as const;

const MAX_DEPTH = 32;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

type Token =
  | { t: 'word'; v: string }
  | { t: 'int'; v: number }
  | { t: 'str'; v: string }
  | { t: 'op'; v: '=' | '!=' | '>' | '>=' | '<' | '<=' }
  | { t: '(' | ')' | ',' };

function invalid(why: string): AlibabaError {
  return new AlibabaError('InvalidFilterClause', `The specified filtering condition is invalid: ${why}.`);
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: c });
      i++;
    } else if (c === '"' || c === "'") {
      let v = '';
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        v += text[i++];
      }
      if (i >= text.length) throw invalid('a quoted string is not closed');
      i++;
      out.push({ t: 'str', v });
    } else if ('=!<>'.includes(c)) {
      const two = text.slice(i, i + 2);
      if (two === '!=' || two === '>=' || two === '<=') {
        out.push({ t: 'op', v: two });
        i += 2;
      } else if (c === '!') {
        throw invalid("'!' must be followed by '='");
      } else {
        out.push({ t: 'op', v: c as '=' | '<' | '>' });
        i++;
      }
    } else if (/[-+0-9]/.test(c)) {
      const m = /^[-+]?\d+/.exec(text.slice(i));
      if (!m) throw invalid(`unexpected '${c}'`);
      const n = Number(m[0]);
      if (!Number.isSafeInteger(n) || n < INT32_MIN || n > INT32_MAX) throw invalid(`${m[0]} is not a 32-bit integer`);
      out.push({ t: 'int', v: n });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(text.slice(i))!;
      out.push({ t: 'word', v: m[0] });
      i += m[0].length;
    } else {
      throw invalid(`unexpected '${c}'`);
    }
  }
  return out;
}

class Parser {
  private pos = 0;
  constructor(private readonly tokens: Token[]) {}

  parse(): Filter {
    const filter = this.or(0);
    if (this.pos < this.tokens.length) throw invalid('unexpected text after the end of the condition');
    return filter;
  }

  private peek(): Token | undefined {
    return this.tokens[this.pos];
  }

  private keyword(word: string): boolean {
    const t = this.peek();
    if (t?.t === 'word' && t.v.toUpperCase() === word) {
      this.pos++;
      return true;
    }
    return false;
  }

  private or(depth: number): Filter {
    const parts = [this.and(depth)];
    while (this.keyword('OR')) parts.push(this.and(depth));
    return parts.length === 1 ? parts[0] : f.or(...parts);
  }

  private and(depth: number): Filter {
    const parts = [this.primary(depth)];
    while (this.keyword('AND')) parts.push(this.primary(depth));
    return parts.length === 1 ? parts[0] : f.and(...parts);
  }

  private primary(depth: number): Filter {
    const t = this.peek();
    if (t?.t === '(') {
      if (depth >= MAX_DEPTH) throw invalid(`parentheses nest more than ${MAX_DEPTH} deep`);
      this.pos++;
      const inner = this.or(depth + 1);
      if (this.peek()?.t !== ')') throw invalid("a '(' is not closed");
      this.pos++;
      return inner;
    }
    return this.condition();
  }

  private condition(): Filter {
    const t = this.peek();
    if (t?.t !== 'word') throw invalid('a condition must start with an attribute name');
    const field = t.v.toLowerCase();
    const isInt = (INT_FIELDS as readonly string[]).includes(field);
    const isStr = (STR_FIELDS as readonly string[]).includes(field);
    if (!isInt && !isStr) throw invalid(`'${t.v}' is not one of ${[...INT_FIELDS, ...STR_FIELDS].join(', ')}`);
    this.pos++;
    const value = (): TagValue => {
      const v = this.tokens[this.pos++];
      if (isInt && v?.t === 'int') return v.v;
      if (isStr && v?.t === 'str') return v.v;
      throw invalid(isInt ? `${field} compares with an integer` : `${field} compares with a quoted string`);
    };
    const negated = this.keyword('NOT');
    if (this.keyword('IN')) {
      if (this.tokens[this.pos++]?.t !== '(') throw invalid("IN must be followed by '('");
      const values = [value()];
      while (this.peek()?.t === ',') {
        this.pos++;
        values.push(value());
      }
      if (this.tokens[this.pos++]?.t !== ')') throw invalid("an IN list is not closed with ')'");
      return negated ? f.not(f.in(field, values)) : f.in(field, values);
    }
    if (negated) throw invalid('NOT must be followed by IN');
    const op = this.tokens[this.pos++];
    if (op?.t !== 'op') throw invalid(`${field} must be followed by an operator`);
    if (isStr && op.v !== '=' && op.v !== '!=') throw invalid(`${field} supports only =, !=, in and not in`);
    return f.cmp(field, op.v, value());
  }
}

/** Parses a Filter string; throws AlibabaError('InvalidFilterClause') for anything it does not accept. */
export function parseFilter(text: string): Filter {
  if (text.length > MAX_FILTER_LENGTH) throw invalid(`it is longer than ${MAX_FILTER_LENGTH} characters`);
  const tokens = tokenize(text);
  if (tokens.length === 0) throw invalid('it is empty');
  return new Parser(tokens).parse();
}
