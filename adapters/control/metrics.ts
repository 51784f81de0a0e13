/**
 * Prometheus metrics (prom-client), one registry per gateway (tests run several in one process):
 *   isg_requests_total{vendor,operation,status,error_code}   every vendor request as answered
 *   isg_request_duration_seconds{vendor,operation}           latency histogram
 *   isg_embed_batch_size{model,tower}                        images (texts) per ONNX session run
 *   isg_embed_queue_wait_seconds{model,tower}                time an item waited for its run
 *   isg_store_images{tenant,library}                         images per library, read at scrape time
 *   isg_store_libraries                                      libraries of all tenants
 * plus prom-client's default process metrics (isg_ prefix). Requests that are not a vendor's (control
 * plane, console, docs, metrics) count under vendor "gateway" with an empty operation.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine } from '../../core/engine';
import type { BatchEvent } from '../../core/embed/runner';

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128];
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'isg_requests_total',
    help: 'Requests by vendor API, operation, HTTP status and vendor error code',
    labelNames: ['vendor', 'operation', 'status', 'error_code'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'isg_request_duration_seconds',
    help: 'Request latency by vendor API and operation',
    labelNames: ['vendor', 'operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly batchSize = new Histogram({
    name: 'isg_embed_batch_size',
    help: 'Items per embedding session run',
    labelNames: ['model', 'tower'] as const,
    buckets: BATCH_BUCKETS,
    registers: [this.registry],
  });
  private readonly queueWait = new Histogram({
    name: 'isg_embed_queue_wait_seconds',
    help: 'Time an item waited in the embedding queue before its run started',
    labelNames: ['model', 'tower'] as const,
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  private engine?: Engine;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'isg_' });
    const metrics = this;
    new Gauge({
      name: 'isg_store_images',
      help: 'Images per library (read from the store at scrape time)',
      labelNames: ['tenant', 'library'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const [tenant, library, count] of await metrics.librarySizes()) this.set({ tenant, library }, count);
      },
    });
    new Gauge({
      name: 'isg_store_libraries',
      help: 'Libraries of all tenants',
      registers: [this.registry],
      async collect() {
        this.set((await metrics.librarySizes()).length);
      },
    });
  }

  /** The engine whose store sizes are reported, and how tenants are named in the labels (tenant-label.ts). */
  watch(engine: Engine, tenantLabel: (tenant: string) => string = (t) => t): void {
    this.engine = engine;
    this.tenantLabel = tenantLabel;
  }
  private tenantLabel: (tenant: string) => string = (t) => t;

  observeRequest(labels: { vendor: string; operation: string; status: number; errorCode: string }, seconds: number): void {
    this.requests.inc({ vendor: labels.vendor, operation: labels.operation, status: String(labels.status), error_code: labels.errorCode });
    this.latency.observe({ vendor: labels.vendor, operation: labels.operation }, seconds);
  }

  /** For LoadModelOptions.onBatch. */
  readonly observeBatch = (event: BatchEvent): void => {
    const labels = { model: event.model, tower: event.tower };
    this.batchSize.observe(labels, event.size);
    for (const ms of event.waitedMs) this.queueWait.observe(labels, ms / 1000);
  };

  async render(): Promise<{ contentType: string; body: string }> {
    this.sizes = undefined;
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  /** One store walk per scrape, shared by both store gauges. */
  private sizes?: Promise<Array<[string, string, number]>>;
  private librarySizes(): Promise<Array<[string, string, number]>> {
    const engine = this.engine;
    if (!engine) return Promise.resolve([]);
    return (this.sizes ??= (async () => {
      const out: Array<[string, string, number]> = [];
      for (const tenant of await engine.listTenants()) {
        for (const library of await engine.listLibraries(tenant)) out.push([this.tenantLabel(tenant), library.name, library.imageCount]);
      }
      return out;
    })());
  }
}
