/**
 * The embedded store's tasks and one-time claims: task records, the numbered series tasks are filed in,
 * and claims (request nonces). Each operation is one SQLite statement or transaction, so it is atomic;
 * the data directory lock (dir-lock.ts) keeps every other process out.
 */
import type Database from 'better-sqlite3';
import type { TaskRecord, TaskStore } from '../task-store';

type Statement = Database.Statement<unknown[], unknown>;

/** Expired claims are swept at most once per this many claims. */
const CLAIM_SWEEP_EVERY = 1024;

export class EmbeddedTasks implements TaskStore {
  private readonly sql: Record<string, Statement>;
  private claimsSinceSweep = 0;

  constructor(
    private readonly db: Database.Database,
    /** Throws once the store is closed. */
    private readonly checkOpen: () => void,
  ) {
    const p = (s: string) => db.prepare(s);
    this.sql = {
      putTask: p(`INSERT INTO tasks (tenant, id, kind, status, created_at, updated_at, state, scope, seq)
        VALUES (@tenant, @id, @kind, @status, @created_at, @updated_at, @state, @scope, @seq)
        ON CONFLICT (tenant, id) DO UPDATE SET kind = excluded.kind, status = excluded.status,
          created_at = excluded.created_at, updated_at = excluded.updated_at, state = excluded.state,
          scope = excluded.scope, seq = excluded.seq`),
      getTask: p('SELECT * FROM tasks WHERE tenant = ? AND id = ?'),
      deleteTask: p('DELETE FROM tasks WHERE tenant = ? AND id = ?'),
      unfinishedTasks: p("SELECT * FROM tasks WHERE status IN ('pending', 'running') ORDER BY created_at, tenant, id"),
      tasksOfScope: p('SELECT * FROM tasks WHERE tenant = ? AND scope = ? ORDER BY seq, created_at, id'),
      nextSequence: p(`INSERT INTO sequences (tenant, scope, last) VALUES (@tenant, @scope, @from)
        ON CONFLICT (tenant, scope) DO UPDATE SET last = max(last + 1, @from) RETURNING last`).pluck(),
      // A live claim is never taken over; an expired one is.
      claim: p(`INSERT INTO claims (scope, token, expires_at) VALUES (@scope, @token, @expires_at)
        ON CONFLICT (scope, token) DO UPDATE SET expires_at = excluded.expires_at WHERE claims.expires_at <= @now`),
      sweepClaims: p('DELETE FROM claims WHERE expires_at <= ?'),
    };
  }

  async putTask(task: TaskRecord): Promise<void> {
    this.checkOpen();
    this.sql.putTask.run({
      tenant: task.tenant,
      id: task.id,
      kind: task.kind,
      status: task.status,
      created_at: task.createdAt,
      updated_at: task.updatedAt,
      state: JSON.stringify(task.state ?? null),
      scope: task.scope ?? null,
      seq: task.seq ?? null,
    });
  }

  async getTask(tenant: string, id: string): Promise<TaskRecord | undefined> {
    this.checkOpen();
    const row = this.sql.getTask.get(tenant, id) as TaskRow | undefined;
    return row ? taskFromRow(row) : undefined;
  }

  async deleteTask(tenant: string, id: string): Promise<boolean> {
    this.checkOpen();
    return this.sql.deleteTask.run(tenant, id).changes > 0;
  }

  async listUnfinishedTasks(): Promise<TaskRecord[]> {
    this.checkOpen();
    return (this.sql.unfinishedTasks.all() as TaskRow[]).map(taskFromRow);
  }

  async listTasks(tenant: string, scope: string): Promise<TaskRecord[]> {
    this.checkOpen();
    return (this.sql.tasksOfScope.all(tenant, scope) as TaskRow[]).map(taskFromRow);
  }

  async nextSequence(tenant: string, scope: string, from = 1): Promise<number> {
    this.checkOpen();
    return this.sql.nextSequence.get({ tenant, scope, from: Math.max(1, Math.floor(from)) }) as number;
  }

  async claimOnce(scope: string, token: string, expiresAt: number, now = Date.now()): Promise<boolean> {
    this.checkOpen();
    if (++this.claimsSinceSweep >= CLAIM_SWEEP_EVERY) {
      this.claimsSinceSweep = 0;
      this.sql.sweepClaims.run(now);
    }
    return this.sql.claim.run({ scope, token, expires_at: expiresAt, now }).changes > 0;
  }

  /** Tasks and sequences of one tenant, or everything (claims too); call inside the caller's transaction. */
  reset(tenant?: string): void {
    if (tenant === undefined) {
      for (const table of ['tasks', 'sequences', 'claims']) this.db.exec(`DELETE FROM ${table}`);
      return;
    }
    this.db.prepare('DELETE FROM tasks WHERE tenant = ?').run(tenant);
    this.db.prepare('DELETE FROM sequences WHERE tenant = ?').run(tenant);
  }
}

interface TaskRow {
  tenant: string;
  id: string;
  kind: string;
  status: TaskRecord['status'];
  created_at: number;
  updated_at: number;
  state: string | null;
  scope: string | null;
  seq: number | null;
}

function taskFromRow(row: TaskRow): TaskRecord {
  const task: TaskRecord = {
    tenant: row.tenant,
    id: row.id,
    kind: row.kind,
    status: row.status,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    state: row.state === null ? null : JSON.parse(row.state),
  };
  if (row.scope !== null) task.scope = row.scope;
  if (row.seq !== null) task.seq = row.seq;
  return task;
}
