// The public entry of streamvisor: named exports only (the contract: docs/contract.md, "Public API").

export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { ConsumerStats } from './consumer/consumer-stats.js';
export type { RetentionOptions } from './consumer/retention.js';
export type { DashboardSource } from './dashboard/live-feed.js';
export type { Metrics, MetricsOptions, MetricsSource } from './dashboard/metrics.js';
export { createMetrics } from './dashboard/metrics.js';
export type { Dashboard, DashboardOptions } from './dashboard/server.js';
export { startDashboard } from './dashboard/server.js';
export { ConnectionError } from './errors/connection-error.js';
export { ConsumerStoppingError } from './errors/consumer-stopping-error.js';
export { HandlerTimeoutError } from './errors/handler-timeout-error.js';
export { NoGroupError } from './errors/no-group-error.js';
export { NonRetryableError } from './errors/non-retryable-error.js';
export { RedisCommandError } from './errors/redis-command-error.js';
export { StorageClosedError } from './errors/storage-closed-error.js';
export type { ErrorCode } from './errors/streamvisor-error.js';
export { StreamvisorError } from './errors/streamvisor-error.js';
export { consumerMachine } from './machines/consumer-machine.js';
export { dispatchWorkerMachine } from './machines/dispatch-worker-machine.js';
export { supervisorMachine } from './machines/supervisor-machine.js';
export {
  MemoryRetryScheduler,
  type MemoryRetrySchedulerOptions,
} from './retry/memory-retry-scheduler.js';
export {
  RedisRetryScheduler,
  type RedisRetrySchedulerOptions,
  type RedisRetrySchedulerUrlOptions,
} from './retry/redis-retry-scheduler.js';
export type { PromoteResult } from './retry/redis-retry-scripts.js';
export { retryKey } from './retry/retry-key.js';
export { RETRY_ATTEMPT_FIELD, type RetryScheduler, scheduledAttempts } from './retry/retry-scheduler.js';
export type {
  DispatchInput,
  DispatchMessage,
  DispatchOptions,
  DispatchResult,
} from './routing/dispatch-once.js';
export type { Handler, HandlerContext, HandlerOptions, Route } from './routing/handler.js';
export { isStreamvisorHeader, STREAMVISOR_HEADERS } from './routing/headers.js';
export type { Message } from './routing/message.js';
export { Router } from './routing/router.js';
export type { ConsumerHealth, RuntimeHealth } from './runtime/health.js';
export { createRuntime, Runtime } from './runtime/runtime.js';
export type { RuntimeDispatch } from './runtime/runtime-dispatch.js';
export type { RuntimeEvent, RuntimeListener } from './runtime/runtime-events.js';
export type {
  ConsumerOptions,
  InspectOption,
  RuntimeOptions,
  SupervisorOptions,
} from './runtime/runtime-options.js';
export type {
  ConsumerSnapshot,
  RuntimeSnapshot,
  RuntimeStatus,
  WorkerSnapshot,
} from './runtime/runtime-snapshot.js';
export { MemoryStreamStorage, type MemoryStreamStorageOptions } from './storage/memory-stream-storage.js';
export { fnv1a32, partitionOf, partitionStream, partitionStreams } from './storage/partitions.js';
export { PARTITION_KEY_FIELD, type Published, type PublishOptions, publish } from './storage/publish.js';
export type { RedisClient } from './storage/redis-client.js';
export { RedisStreamStorage } from './storage/redis-stream-storage.js';
export { redactUrl } from './storage/redis-url.js';
export type {
  AddOptions,
  AutoClaimOptions,
  ClaimResult,
  ConsumerInfo,
  DeadLetterWrite,
  DeleteIdleConsumersOptions,
  GroupInfo,
  PendingEntry,
  PendingOptions,
  RangeEntry,
  RangeOptions,
  ReadGroupOptions,
  StreamEntry,
  StreamFields,
  StreamStorage,
} from './storage/stream-storage.js';
export type { TrimAckedOptions } from './storage/trim-acked.js';
