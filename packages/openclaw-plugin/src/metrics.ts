/** Prometheus metrics of the gateway, served at GET /metrics. One registry per gateway instance. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export type TurnOutcome = 'ok' | 'error' | 'late' | 'aborted';

export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'synthesis_' });
  const metrics = {
    registry,
    turns: new Counter({ name: 'synthesis_turns_total', help: 'Turns by outcome and error code', labelNames: ['outcome', 'code'] as const, registers: [registry] }),
    turnSeconds: new Histogram({
      name: 'synthesis_turn_duration_seconds',
      help: 'Time from a turn being delivered to Claude to its final reply',
      buckets: [0.005, 0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120, 300, 900],
      registers: [registry],
    }),
    queueDepth: new Gauge({ name: 'synthesis_queue_depth', help: 'Turns waiting behind busy sessions', registers: [registry] }),
    liveSessions: new Gauge({ name: 'synthesis_live_sessions', help: 'Sessions with a running Claude process', registers: [registry] }),
    spawns: new Counter({ name: 'synthesis_claude_spawns_total', help: 'Claude processes started', registers: [registry] }),
    crashes: new Counter({ name: 'synthesis_claude_crashes_total', help: 'Claude processes that exited without being asked to', registers: [registry] }),
    restarts: new Counter({ name: 'synthesis_claude_restarts_total', help: 'Claude processes stopped by the gateway to recover a session', labelNames: ['reason'] as const, registers: [registry] }),
    bridgeConnections: new Gauge({ name: 'synthesis_bridge_connections', help: 'Open claude-plugin bridge connections', registers: [registry] }),
    heartbeats: new Counter({ name: 'synthesis_sse_heartbeats_total', help: 'Empty SSE deltas sent to keep clients alive', registers: [registry] }),
    lateReplies: new Counter({ name: 'synthesis_late_replies_total', help: 'Final replies whose caller had gone away', labelNames: ['action'] as const, registers: [registry] }),
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;
