/**
 * The Qdrant store's tasks and one-time claims (the TaskStore part): points of the `<prefix>_meta`
 * collection (layout.ts). Qdrant has no transaction, so every atomic step is a write Qdrant itself decides:
 * an insert-only point or a conditional update (update_filter), read back to learn who won.
 */
import { randomUUID } from 'node:crypto';
import type { QdrantClient } from '@qdrant/js-client-rest';
import type { TaskRecord, TaskStore } from '../task-store';
import type { QdrantFilter } from './filter-compiler';
import {
  sequencePointId,
  taskFromPayload,
  taskPayload,
  taskPointId,
  tokenPointId,
  UNIT_VECTOR,
  type SequencePayload,
  type TaskPayload,
  type TokenPayload,
} from './layout';

/** Expired one-time tokens are swept at most this often per process. */
const TOKEN_SWEEP_MS = 60_000;

interface MetaPoint<P> {
  id: string | number;
  payload?: P | Record<string, unknown> | null;
}

/** What the store lends this part: its client, the meta collection, and its retrying read and write plumbing. */
export interface MetaAccess {
  readonly client: QdrantClient;
  readonly meta: string;
  ensureMeta(): Promise<void>;
  write<T>(run: () => Promise<T>): Promise<T>;
  retrieve<P>(collection: string, ids: Array<string | number>, withVector?: boolean, withPayload?: unknown): Promise<Array<MetaPoint<P>>>;
  scrollAll<P>(collection: string, filter: QdrantFilter, withPayload?: unknown): Promise<Array<MetaPoint<P>>>;
}

export class QdrantTasks implements TaskStore {
  private lastTokenSweep = 0;

  constructor(private readonly q: MetaAccess) {}

  async putTask(task: TaskRecord): Promise<void> {
    await this.q.ensureMeta();
    await this.q.write(() =>
      this.q.client.upsert(this.q.meta, {
        wait: true,
        ordering: 'medium',
        points: [{ id: taskPointId(task.tenant, task.id), vector: UNIT_VECTOR, payload: { ...taskPayload(task) } }],
      }),
    );
  }

  async getTask(tenant: string, id: string): Promise<TaskRecord | undefined> {
    await this.q.ensureMeta();
    const [point] = await this.q.retrieve<TaskPayload>(this.q.meta, [taskPointId(tenant, id)]);
    return point ? taskFromPayload(point.payload as TaskPayload) : undefined;
  }

  async listUnfinishedTasks(): Promise<TaskRecord[]> {
    await this.q.ensureMeta();
    const points = await this.q.scrollAll<TaskPayload>(this.q.meta, {
      must: [
        { key: 'kind', match: { value: 'task' } },
        { key: 'status', match: { any: ['pending', 'running'] } },
      ],
    });
    return points
      .map((p) => taskFromPayload(p.payload as TaskPayload))
      .sort((a, b) => a.createdAt - b.createdAt || cmp(a.tenant, b.tenant) || cmp(a.id, b.id));
  }

  async listTasks(tenant: string, scope: string): Promise<TaskRecord[]> {
    await this.q.ensureMeta();
    const points = await this.q.scrollAll<TaskPayload>(this.q.meta, {
      must: [
        { key: 'kind', match: { value: 'task' } },
        { key: 'tenant', match: { value: tenant } },
        { key: 'scope', match: { value: scope } },
      ],
    });
    return points
      .map((p) => taskFromPayload(p.payload as TaskPayload))
      .sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || a.createdAt - b.createdAt || cmp(a.id, b.id));
  }

  async deleteTask(tenant: string, id: string): Promise<boolean> {
    await this.q.ensureMeta();
    const pid = taskPointId(tenant, id);
    if ((await this.q.retrieve(this.q.meta, [pid], false, false)).length === 0) return false;
    await this.q.write(() => this.q.client.delete(this.q.meta, { wait: true, ordering: 'strong', points: [pid] }));
    return true;
  }

  /**
   * Qdrant has no atomic counter, so each number is a point created insert-only: the caller whose owner
   * mark is read back holds it; the others try the next number. A hint point remembers roughly where the
   * sequence stands, so a caller starts near the end instead of probing from 1.
   */
  async nextSequence(tenant: string, scope: string, from = 1): Promise<number> {
    await this.q.ensureMeta();
    const hintId = sequencePointId(tenant, scope, 0);
    const [hint] = await this.q.retrieve<SequencePayload>(this.q.meta, [hintId]);
    let n = Math.max(((hint?.payload as SequencePayload | undefined)?.last ?? 0) + 1, Math.max(1, Math.floor(from)));
    while (!(await this.writeOnce(sequencePointId(tenant, scope, n), { kind: 'seq', tenant, scope, n }))) n++;
    // Best effort: a hint left behind by a slower writer only costs a later caller a few probes.
    const last: SequencePayload = { kind: 'seq', tenant, scope, n: 0, last: n };
    await this.q.write(() => this.q.client.upsert(this.q.meta, { wait: true, points: [{ id: hintId, vector: UNIT_VECTOR, payload: { ...last } }] }));
    return n;
  }

  async claimOnce(scope: string, token: string, expiresAt: number): Promise<boolean> {
    await this.q.ensureMeta();
    const id = tokenPointId(scope, token);
    const [existing] = await this.q.retrieve<TokenPayload>(this.q.meta, [id]);
    const now = Date.now();
    const held = existing?.payload as TokenPayload | undefined;
    if (held && held.expires_at > now) return false;
    // A live token is never overwritten; an expired one is replaced only as it was read (one claimant wins).
    const claimed = await this.writeOnce(id, { kind: 'once', scope, token, expires_at: expiresAt }, held?.owner);
    this.sweepTokens(now);
    return claimed;
  }

  /**
   * Writes a point carrying a fresh owner mark and reads it back: true when the mark read is ours, so of
   * concurrent writers exactly one wins. A new point is inserted only if absent; with `replacing`, the
   * existing point is replaced only while it still carries that owner mark.
   */
  private async writeOnce(id: string, payload: Omit<TokenPayload, 'owner'> | SequencePayload, replacing?: string): Promise<boolean> {
    const owner = randomUUID();
    await this.q.write(() =>
      this.q.client.upsert(this.q.meta, {
        wait: true,
        ordering: 'strong',
        ...(replacing === undefined ? { update_mode: 'insert_only' as const } : { update_filter: { must: [{ key: 'owner', match: { value: replacing } }] } }),
        points: [{ id, vector: UNIT_VECTOR, payload: { ...payload, owner } }],
      }),
    );
    const [after] = await this.q.retrieve<{ owner?: string }>(this.q.meta, [id]);
    return (after?.payload as { owner?: string } | undefined)?.owner === owner;
  }

  private sweepTokens(now: number): void {
    if (now - this.lastTokenSweep < TOKEN_SWEEP_MS) return;
    this.lastTokenSweep = now;
    const filter: QdrantFilter = { must: [{ key: 'kind', match: { value: 'once' } }, { key: 'expires_at', range: { lt: now } }] };
    this.q.client.delete(this.q.meta, { wait: false, filter }).catch(() => undefined);
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
