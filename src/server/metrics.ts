/**
 * GET /metrics in the Prometheus text format (prom-client), from a Registry of this server's own
 * (not prom-client's global one, so several servers in one process — tests — do not clash):
 * requests by route, method and status (499 for a client that closed the connection before its
 * answer), a latency histogram by route, the admission queue's
 * depth and running tasks, and the process's resident memory.
 */
import type { FastifyInstance } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AdmissionQueue } from './queue.js';
import { onRequestDone } from './request-log.js';

/** Registers the request hooks and GET /metrics; returns the registry. */
export function registerMetrics(app: FastifyInstance, queue: AdmissionQueue): Registry {
  const registry = new Registry();
  const requests = new Counter({
    name: 'agegender_http_requests_total',
    help: 'HTTP requests answered, by route, method and status',
    labelNames: ['route', 'method', 'status'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'agegender_http_request_duration_seconds',
    help: 'Time from the request arriving to the answer being sent, by route',
    labelNames: ['route'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  new Gauge({
    name: 'agegender_queue_waiting',
    help: 'Requests waiting in the admission queue',
    registers: [registry],
    collect() {
      this.set(queue.stats().queued);
    },
  });
  new Gauge({
    name: 'agegender_queue_running',
    help: 'Requests running (holding a slot of the admission queue)',
    registers: [registry],
    collect() {
      this.set(queue.stats().running);
    },
  });
  new Gauge({
    name: 'agegender_process_resident_memory_bytes',
    help: 'Resident memory of the server process',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().rss);
    },
  });
  onRequestDone(app, (req, _reply, status, seconds) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ route, method: req.method, status: String(status) });
    latency.observe({ route }, seconds);
  });
  app.get('/metrics', async (_req, reply) => reply.type(registry.contentType).send(await registry.metrics()));
  return registry;
}
