import * as api from '@opentelemetry/api';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRuntime, MemoryStreamStorage, publish, Router } from '../../src/index.js';
import { otelApi, setOtelApiLoader } from '../../src/telemetry/otel-api.js';
import { expectNoLeaks, trackRuntime } from '../helpers/leak-guard.js';
import { memoryLogger } from './retry-support.js';

// Telemetry when it must cost nothing: no SDK registered, `@opentelemetry/api` not installed, and
// bad values of the option. (With an SDK registered: test/integration/telemetry.test.ts.)

afterEach(async () => {
  vi.restoreAllMocks();
  setOtelApiLoader(undefined);
  await expectNoLeaks();
});

async function handleOne(options: { telemetry?: boolean } = {}, logger = memoryLogger().logger) {
  const storage = new MemoryStreamStorage();
  const router = new Router();
  const handled: unknown[] = [];
  router.on('job', async () => void handled.push(api.trace.getActiveSpan()));
  const runtime = trackRuntime(
    createRuntime({ storage, router, logger, ...options, consumers: [{ stream: 's', group: 'g' }] }),
  );
  await runtime.start();
  await publish(storage, 's', 'job', {});
  await vi.waitFor(() => expect(handled).toHaveLength(1));
  const fields = (await storage.range('s')).map((entry) => entry.fields);
  await runtime.stop();
  return { handled, fields };
}

describe('telemetry with no OpenTelemetry SDK registered', () => {
  it('the API is installed (a devDependency here) and is the copy the test sees', () => {
    expect(otelApi()?.context).toBe(api.context);
  });

  it('handles messages without entering any context: no context.with, no tracer, no span', async () => {
    const withContext = vi.spyOn(api.context, 'with');
    const getTracer = vi.spyOn(api.trace, 'getTracer');
    const { handled, fields } = await handleOne();
    expect(handled).toEqual([undefined]);
    expect(withContext).not.toHaveBeenCalled();
    expect(getTracer).not.toHaveBeenCalled();
    expect(fields[0]).not.toHaveProperty('traceparent');
  });

  it('telemetry: true without an SDK warns once at start and handles messages', async () => {
    const { logger, records } = memoryLogger();
    await handleOne({ telemetry: true }, logger);
    const warnings = records.filter((record) => record.level === 40);
    expect(warnings.map((record) => record.msg)).toEqual([
      'no OpenTelemetry tracer provider is registered: messages are not traced',
    ]);
  });
});

describe('telemetry without @opentelemetry/api installed', () => {
  it('the runtime and publish() work; telemetry: true says what is missing', async () => {
    setOtelApiLoader(() => null);
    const { logger, records } = memoryLogger();
    const { handled, fields } = await handleOne({ telemetry: true }, logger);
    expect(handled).toEqual([undefined]);
    expect(Object.keys(fields[0] ?? {})).toEqual(['type', 'payload']);
    expect(records.filter((record) => record.level === 40).map((record) => record.msg)).toEqual([
      'telemetry is true but @opentelemetry/api is not installed: no traces',
    ]);
  });
});

describe('bad `telemetry` values', () => {
  it.each([['yes'], [1], [null], [{}]])('createRuntime rejects telemetry: %j with a TypeError', (value) => {
    expect(() =>
      createRuntime({
        router: new Router(),
        consumers: [{ stream: 's', group: 'g' }],
        telemetry: value as unknown as boolean,
      }),
    ).toThrow(
      new TypeError(
        `Expected \`telemetry\` to be a boolean (false turns tracing off; leave it out to trace whenever an OpenTelemetry SDK is registered), got ${value === null ? 'object' : typeof value} ${JSON.stringify(value)}`,
      ),
    );
  });

  it('publish rejects a telemetry option that is not a boolean', async () => {
    await expect(
      publish(new MemoryStreamStorage(), 's', 'job', {}, { telemetry: 'no' as unknown as boolean }),
    ).rejects.toThrow(/Expected `telemetry` to be a boolean/);
  });
});
