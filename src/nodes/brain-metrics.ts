import { createServer, type Server } from 'node:http';
import { Gauge, Registry } from 'prom-client';
import type { BrainHealth } from './brain-node.js';
import type { SinkCounters } from './node-sinks.js';

/**
 * The brain's health as Prometheus metrics, served on loopback at /metrics (off unless the
 * profile names a port). Values are read from the node's health snapshot at each scrape, so
 * the decision path never touches them.
 */
export class BrainMetrics {
  private readonly registry = new Registry();
  private readonly server: Server;

  private constructor(health: () => BrainHealth & SinkCounters, port: number) {
    const r = this.registry;
    const decisions = new Gauge({
      name: 'pons_brain_decisions_total',
      help: 'decisions published',
      registers: [r],
    });
    const rate = new Gauge({
      name: 'pons_brain_decisions_per_second',
      help: 'over the last 5 s',
      registers: [r],
    });
    const latency = new Gauge({
      name: 'pons_brain_latency_ms',
      help: 'latency of the last 500 decisions by stage',
      labelNames: ['stage', 'quantile'],
      registers: [r],
    });
    const dropped = new Gauge({
      name: 'pons_brain_observations_dropped_total',
      help: 'observations not decided on, by reason',
      labelNames: ['reason'],
      registers: [r],
    });
    const timeouts = new Gauge({
      name: 'pons_brain_camera_timeouts_total',
      help: 'times a camera went silent past its timeout',
      labelNames: ['camera'],
      registers: [r],
    });
    const provider = new Gauge({
      name: 'pons_brain_provider_info',
      help: 'the execution provider the decoder runs on',
      labelNames: ['provider'],
      registers: [r],
    });
    const liveClients = new Gauge({
      name: 'pons_brain_foxglove_clients',
      help: 'Foxglove live-view clients connected',
      registers: [r],
    });
    const liveMessages = new Gauge({
      name: 'pons_brain_foxglove_messages_total',
      help: 'live-view messages sent to clients, and dropped for clients too slow to take them',
      labelNames: ['outcome'],
      registers: [r],
    });
    this.server = createServer(async (req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      const h = health();
      decisions.set(h.decisions);
      rate.set(h.decisions_per_s);
      for (const [stage, q] of Object.entries(h.latency_ms)) {
        if (Number.isFinite(q.p50)) latency.set({ stage, quantile: '0.5' }, q.p50);
        if (Number.isFinite(q.p99)) latency.set({ stage, quantile: '0.99' }, q.p99);
      }
      for (const reason of ['superseded', 'stale', 'failed', 'no_instruction', 'estop'] as const) {
        dropped.set({ reason }, h.gate[reason]);
      }
      dropped.set({ reason: 'out_of_order' }, h.sync.outOfOrder);
      for (const [camera, n] of Object.entries(h.camera_timeouts)) timeouts.set({ camera }, n);
      provider.set({ provider: h.provider }, 1);
      if (h.foxglove) {
        liveClients.set(h.foxglove.clients);
        liveMessages.set({ outcome: 'sent' }, h.foxglove.sent);
        liveMessages.set({ outcome: 'dropped' }, h.foxglove.dropped);
      }
      res.writeHead(200, { 'content-type': r.contentType }).end(await r.metrics());
    });
    this.server.listen(port, '127.0.0.1');
  }

  static start(health: () => BrainHealth & SinkCounters, port: number): BrainMetrics {
    return new BrainMetrics(health, port);
  }

  close(): void {
    this.server.close();
  }
}
