/**
 * A Qdrant that keeps points, for the parts of the Qdrant store that need no vector search: its meta
 * collection (libraries, tasks, sequences, one-time tokens) and kept image bytes. It answers the REST calls those parts make —
 * collections exist / create / index / list, upsert (with update_mode and update_filter as Qdrant documents
 * them), set payload, retrieve, scroll (filters by qdrant-semantics.ts, pages in point-id order), delete by
 * ids or filter
 * — each request applied whole before the next, as Qdrant applies the updates of one shard. Anything else
 * is answered 501, so a test never passes on a call this model does not know.
 */
import type { QdrantFilter } from '../../core/store/qdrant/filter-compiler';
import { ok, startFakeQdrant, type FakeAnswer, type FakeQdrant, type RecordedRequest } from './qdrant-fake-server';
import { evaluateQdrantFilter } from './qdrant-semantics';

type Payload = Record<string, unknown>;
type Collection = Map<string, Payload>;

const done = ok({ operation_id: 1, status: 'completed' });
const notFound = (name: string): FakeAnswer => ({ status: 404, body: { status: { error: `Not found: Collection \`${name}\` doesn't exist!` }, time: 0 } });

export async function startPointsQdrant(): Promise<FakeQdrant> {
  const collections = new Map<string, Collection>();
  const matching = (c: Collection, filter?: QdrantFilter) => [...c].filter(([, p]) => !filter || evaluateQdrantFilter(filter, p));

  function answer(req: RecordedRequest): FakeAnswer {
    const parts = req.path.split('/').filter(Boolean); // collections, <name>, ...
    if (parts[0] !== 'collections') return { status: 501, body: {} };
    if (parts.length === 1 && req.method === 'GET') return ok({ collections: [...collections.keys()].map((name) => ({ name })) });
    const name = parts[1];
    const rest = parts.slice(2).join('/');
    const c = collections.get(name);
    if (rest === 'exists') return ok({ exists: c !== undefined });
    if (rest === '' && req.method === 'PUT') {
      if (!c) collections.set(name, new Map());
      return ok(true);
    }
    if (!c) return notFound(name);
    const body = req.body ?? {};
    if (rest === 'index' && req.method === 'PUT') return done;
    if (rest === 'points' && req.method === 'PUT') {
      for (const point of body.points as Array<{ id: string; payload: Payload }>) {
        const id = String(point.id);
        const existing = c.get(id);
        if (existing && body.update_mode === 'insert_only') continue;
        if (existing && body.update_filter && !evaluateQdrantFilter(body.update_filter, existing)) continue;
        if (!existing && body.update_mode === 'update_only') continue;
        c.set(id, structuredClone(point.payload ?? {}));
      }
      return done;
    }
    if (rest === 'points' && req.method === 'POST') {
      const ids = (body.ids as Array<string | number>).map(String);
      return ok(ids.filter((id) => c.has(id)).map((id) => ({ id, payload: body.with_payload === false ? null : c.get(id) })));
    }
    if (rest === 'points/scroll' && req.method === 'POST') {
      const all = matching(c, body.filter).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const from = body.offset === undefined || body.offset === null ? 0 : all.findIndex(([id]) => id >= String(body.offset));
      const page = from < 0 ? [] : all.slice(from, from + (body.limit ?? 10));
      const next = from < 0 ? undefined : all[from + page.length];
      return ok({ points: page.map(([id, payload]) => ({ id, payload })), next_page_offset: next ? next[0] : null });
    }
    if (rest === 'points/payload' && req.method === 'POST') {
      const ids = body.points ? (body.points as Array<string | number>).map(String) : matching(c, body.filter).map(([id]) => id);
      for (const id of ids) if (c.has(id)) c.set(id, { ...c.get(id), ...structuredClone(body.payload) });
      return done;
    }
    if (rest === 'points/delete' && req.method === 'POST') {
      const ids = body.points ? (body.points as Array<string | number>).map(String) : matching(c, body.filter).map(([id]) => id);
      for (const id of ids) c.delete(id);
      return done;
    }
    return { status: 501, body: { status: { error: `not modelled: ${req.method} ${req.path}` }, time: 0 } };
  }

  return startFakeQdrant(answer);
}
