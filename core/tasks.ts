/**
 * Background tasks (batch imports, dumps) that survive restarts. A task is a persisted record whose
 * `state` belongs to the handler of its kind; the handler saves progress through `save` as it goes, and
 * a task left unfinished by a crash or a stop is resumed from its last saved state when the runner starts.
 *
 * A task may be filed in a numbered series (a scope, e.g. one library's dumps): its number comes from the
 * store's atomic sequence, so processes sharing one store never hand out the same number, and no lock in
 * this process is needed.
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, NotFoundError } from './errors';
import type { TaskRecord, TaskStore } from './store/task-store';

export type { TaskRecord } from './store/task-store';

export interface TaskContext<S> {
  readonly task: Readonly<TaskRecord> & { state: S };
  /** Persist progress; resolves when it is durable. */
  save(state: S): Promise<void>;
  /** Aborted when the runner stops; handlers stop at the next safe point (their state is saved). */
  readonly signal: AbortSignal;
}

/** Runs a task to the end from whatever state it was saved in; throws to fail it. */
export type TaskHandler<S> = (ctx: TaskContext<S>) => Promise<S>;

/** Where a new task is filed: a series numbered 1, 2, ... per tenant and scope. */
export interface TaskFiling {
  scope: string;
  /** The lowest number the task may get (a series numbered elsewhere before goes on after it). */
  from?: number;
  /**
   * At most one unfinished task of this kind in the scope: a second is refused with AlreadyExistsError
   * ('task', scope). Of creators racing (in any process), at most one gets through.
   */
  exclusive?: boolean;
}

export interface TaskRunnerOptions {
  /** Tasks running at once; more wait their turn. */
  concurrency?: number;
  onError?: (task: TaskRecord, error: unknown) => void;
}

export class TaskRunner {
  private readonly handlers = new Map<string, TaskHandler<any>>();
  private readonly running = new Set<Promise<void>>();
  private readonly queue: TaskRecord[] = [];
  private readonly abort = new AbortController();
  private active = 0;

  constructor(
    private readonly store: TaskStore,
    private readonly options: TaskRunnerOptions = {},
  ) {}

  register<S>(kind: string, handler: TaskHandler<S>): void {
    this.handlers.set(kind, handler);
  }

  /** Persists a new pending task (filed and numbered when `filing` says where) and schedules it; resolves once it is durable. */
  async create<S>(tenant: string, kind: string, state: S, filing?: TaskFiling): Promise<TaskRecord> {
    if (!this.handlers.has(kind)) throw new Error(`no handler for task kind '${kind}'`);
    const rival = async (self?: string) => (await this.list(tenant, filing!.scope)).some((t) => t.kind === kind && isUnfinished(t) && t.id !== self);
    if (filing?.exclusive && (await rival())) throw alreadyRunning(kind, filing.scope);
    const now = Date.now();
    const task: TaskRecord = { tenant, id: randomUUID(), kind, status: 'pending', createdAt: now, updatedAt: now, state };
    if (filing) {
      task.scope = filing.scope;
      task.seq = await this.store.nextSequence(tenant, filing.scope, filing.from);
    }
    await this.store.putTask(task);
    // Another creator got past the first check at the same time. Each checks again after its own write,
    // so at least one of two sees the other and withdraws (both may): never two running.
    if (filing?.exclusive && (await rival(task.id))) {
      await this.store.deleteTask(tenant, task.id);
      throw alreadyRunning(kind, filing.scope);
    }
    this.schedule(task);
    return task;
  }

  /** A tenant's tasks filed under `scope`, by number. */
  list(tenant: string, scope: string): Promise<TaskRecord[]> {
    return this.store.listTasks(tenant, scope);
  }

  async get(tenant: string, id: string): Promise<TaskRecord> {
    const task = await this.store.getTask(tenant, id);
    if (!task) throw new NotFoundError('task', id);
    return task;
  }

  /** Schedules every unfinished task of a kind this runner knows (call once at start). */
  async resumeAll(): Promise<number> {
    const tasks = (await this.store.listUnfinishedTasks()).filter((t) => this.handlers.has(t.kind));
    tasks.sort((a, b) => a.createdAt - b.createdAt).forEach((t) => this.schedule(t));
    return tasks.length;
  }

  /** Resolves when no task is running or waiting (tests and graceful shutdown use it). */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.queue.length > 0) await Promise.all([...this.running]);
  }

  /** Stops taking work and waits for running handlers to reach a safe point. */
  async stop(): Promise<void> {
    this.queue.length = 0;
    this.abort.abort();
    await Promise.allSettled([...this.running]);
  }

  private schedule(task: TaskRecord): void {
    if (this.abort.signal.aborted) return;
    this.queue.push(task);
    this.pump();
  }

  private pump(): void {
    const limit = this.options.concurrency ?? 1;
    while (this.active < limit && this.queue.length > 0) {
      const task = this.queue.shift()!;
      this.active++;
      const run = this.run(task).finally(() => {
        this.active--;
        this.running.delete(run);
        this.pump();
      });
      this.running.add(run);
    }
  }

  private async run(task: TaskRecord): Promise<void> {
    const handler = this.handlers.get(task.kind)!;
    const put = async (status: TaskRecord['status'], state: unknown) => {
      task = { ...task, status, state, updatedAt: Date.now() };
      await this.store.putTask(task);
    };
    try {
      await put('running', task.state);
      const state = await handler({
        task,
        save: (s) => put('running', s),
        signal: this.abort.signal,
      });
      // Stopped mid-way: stays 'running' and is resumed at the next start.
      if (this.abort.signal.aborted) return;
      await put('succeeded', state);
    } catch (error) {
      if (this.abort.signal.aborted) return;
      this.options.onError?.(task, error);
      const message = error instanceof Error ? error.message : String(error);
      await put('failed', { ...(task.state as object), error: message }).catch(() => undefined);
    }
  }
}

function isUnfinished(task: TaskRecord): boolean {
  return task.status === 'pending' || task.status === 'running';
}

function alreadyRunning(kind: string, scope: string): AlreadyExistsError {
  return new AlreadyExistsError('task', scope, `a ${kind} task is already running in '${scope}'`);
}
