/** Pulls the JSON examples out of vendor documents (plain text and Markdown) so tests use them verbatim. */

/** Every balanced JSON object in `text` that starts at one of `starts` and parses. */
export function jsonObjectsAt(text: string, startPattern: RegExp): unknown[] {
  const out: unknown[] = [];
  for (const m of text.matchAll(new RegExp(startPattern.source, 'g'))) {
    const start = m.index!;
    let depth = 0;
    let inString = false;
    for (let i = start; i < text.length; i++) {
      const c = text[i];
      if (inString) {
        if (c === '\\') i++;
        else if (c === '"') inString = false;
      } else if (c === '"') inString = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) {
          out.push(JSON.parse(text.slice(start, i + 1)));
          break;
        }
      }
    }
  }
  return out;
}

/** The `-d '{...}'` bodies of curl examples. */
export function curlBodies(text: string): Array<{ path: string; body: any }> {
  return [...text.matchAll(/curl -X POST '[^']*?(\/api\/[^']+)'[\s\S]*?-d '(\{[\s\S]*?\})'/g)].map((m) => ({ path: m[1], body: JSON.parse(m[2]) }));
}

/** The ```json blocks of a Markdown section (from its heading to the next heading of the same level). */
export function markdownJsonBlocks(markdown: string, heading: RegExp): any[] {
  const start = markdown.search(heading);
  if (start < 0) throw new Error(`no heading ${heading} in the document`);
  const level = /^#+/.exec(markdown.slice(start))![0];
  const rest = markdown.slice(start + 1);
  const end = rest.search(new RegExp(`\\n${level} `));
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]));
}

/** The shape of a JSON value: keys and JSON types, recursively (arrays by their first element). */
export function shapeOf(value: unknown): unknown {
  if (value === null) return 'null';
  if (Array.isArray(value)) return value.length === 0 ? [] : [shapeOf(value[0])];
  if (typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as object).map(([k, v]) => [k, shapeOf(v)]).sort(([a], [b]) => ((a as string) < (b as string) ? -1 : 1)));
  }
  return typeof value;
}
