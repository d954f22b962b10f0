// The public entry of streamvisor: named exports only (the contract: docs/contract.md, "Public API").

export type { ConsumerStats } from './actors/consumer-stats.js';
export type {
  DispatchInput,
  DispatchMessage,
  DispatchOptions,
  DispatchResult,
} from './actors/dispatch/dispatch-once.js';
export type { LeaseOptions } from './actors/lease-options.js';
export type { RetentionOptions } from './actors/retention-options.js';
export type { RuntimeEvent, RuntimeListener } from './actors/runtime-events.js';
export type { Clock } from './clock.js';
export { systemClock } from './clock.js';
export type { DashboardSource } from './dashboard/live-feed.js';
export type { Metrics, MetricsOptions, MetricsSource } from './dashboard/metrics.js';
export { createMetrics } from './dashboard/metrics.js';
export type { Dashboard, DashboardOptions } from './dashboard/server.js';
export { startDashboard } from './dashboard/server.js';
export { BatchError } from './errors/batch-error.js';
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
export type { BatchHandler, BatchOptions, BatchSettings } from './routing/batch.js';
export type { Handler, HandlerContext, HandlerOptions, Route } from './routing/handler.js';
export { Router } from './routing/router.js';
export type { ConsumerHealth, RuntimeHealth } from './runtime/health.js';
export { createRuntime, Runtime } from './runtime/runtime.js';
export type { RuntimeDispatch } from './runtime/runtime-dispatch.js';
export type { PartitionSnapshot } from './runtime/runtime-leases.js';
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
export type { LeaseStore } from './storage/lease-store.js';
export {
  MemoryRetryScheduler,
  type MemoryRetrySchedulerOptions,
} from './storage/memory/memory-retry-scheduler.js';
export {
  MemoryStreamStorage,
  type MemoryStreamStorageOptions,
} from './storage/memory/memory-stream-storage.js';
export type { PreviewEntry, RangePreviewOptions } from './storage/preview-entry.js';
export type { RedisClient } from './storage/redis/redis-client.js';
export {
  RedisRetryScheduler,
  type RedisRetrySchedulerOptions,
  type RedisRetrySchedulerUrlOptions,
} from './storage/redis/redis-retry-scheduler.js';
export type { PromoteResult } from './storage/redis/redis-retry-scripts.js';
export { RedisStreamStorage } from './storage/redis/redis-stream-storage.js';
export { redactUrl } from './storage/redis/redis-url.js';
export { retryKey } from './storage/redis/retry-key.js';
export type { RetryScheduler } from './storage/retry-scheduler.js';
export type {
  AddOptions,
  AutoClaimOptions,
  ClaimResult,
  ConsumerInfo,
  CopyEntryOptions,
  DeadLetterWrite,
  DeleteIdleConsumersOptions,
  EntryWrite,
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
export {
  isStreamvisorHeader,
  PARTITION_KEY_FIELD,
  RETRY_ATTEMPT_FIELD,
  STREAMVISOR_HEADERS,
  scheduledAttempts,
} from './wire/headers.js';
export type { Message } from './wire/message.js';
export { fnv1a32, partitionOf, partitionStream, partitionStreams } from './wire/partitions.js';
export { type OutputMessage, type Published, type PublishOptions, publish } from './wire/publish.js';
