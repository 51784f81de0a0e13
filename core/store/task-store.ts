/**
 * The store's second part: tasks and one-time claims. Task records (core/tasks.ts runs them), the numbered
 * series they are filed in, and one-time tokens such as request nonces. Every operation here is atomic in
 * the store itself, so processes sharing one store need no lock of their own.
 */

/** A persisted background task (batch import, dump, ...). `state` is owned by whoever runs the task. */
export interface TaskRecord {
  tenant: string;
  id: string;
  kind: string;
  status: 'pending' | 'running' | 'succeeded' | 'failed';
  createdAt: number;
  updatedAt: number;
  state: unknown;
  /** The series the task is filed under (e.g. one library's dumps) and its number in it (1, 2, ...). */
  scope?: string;
  seq?: number;
}

export interface TaskStore {
  putTask(task: TaskRecord): Promise<void>;
  getTask(tenant: string, id: string): Promise<TaskRecord | undefined>;
  /** Tasks not yet finished, of every tenant (resumed at start). */
  listUnfinishedTasks(): Promise<TaskRecord[]>;
  /** A tenant's tasks filed under `scope`, by `seq`. */
  listTasks(tenant: string, scope: string): Promise<TaskRecord[]>;
  /** Removes a task record (a task withdrawn before it ran); resolves false when it did not exist. */
  deleteTask(tenant: string, id: string): Promise<boolean>;

  /**
   * The next number (1, 2, ...) of a tenant's sequence, atomically: no two callers, in any process sharing
   * the store, ever get the same number. Never below `from` (default 1): a series numbered elsewhere before
   * goes on after its last number. reset(tenant) starts the tenant's sequences again.
   */
  nextSequence(tenant: string, scope: string, from?: number): Promise<number>;

  /**
   * Records a one-time token (a request nonce) until `expiresAt` (ms since epoch): resolves true for the
   * first claim and false for every later one before it expires, across all processes sharing the store.
   */
  claimOnce(scope: string, token: string, expiresAt: number): Promise<boolean>;
}
