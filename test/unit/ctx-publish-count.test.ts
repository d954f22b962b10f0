import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/dashboard/metrics.js';
import { expectNoLeaks } from '../helpers/leak-guard.js';
import { parsePrometheusText, sampleValue } from '../helpers/prometheus-text.js';
import { type Harness, startHarness } from './retry-support.js';

// The count of ctx.publish outputs (`published` in the snapshot, `outputs_published_total` in the
// metrics): only outputs actually written with their message's ack, on the in-memory storage.

let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
  await expectNoLeaks();
});

describe('published: outputs written with the ack', () => {
  it('counts each output written, and none whose ack found the entry acked already (nothing was written)', async () => {
    let harness: Harness | undefined;
    h = await startHarness((router) =>
      router.on('t', async (message, ctx) => {
        const { n } = message.payload as { n: number };
        ctx.publish('out', 'a', { n });
        ctx.publish('out', 'b', { n });
        // Another consumer finished this one first (as after a claim): its ack acks nothing, so
        // `ackAndAdd` writes none of its outputs.
        if (n === 2 && harness) await harness.storage.ack(harness.stream, harness.group, [message.id]);
      }),
    );
    harness = h;
    for (let n = 0; n < 3; n++) await h.add({ type: 't', payload: JSON.stringify({ n }) });
    await h.flush();
    expect(await h.pendingIds()).toEqual([]);
    const written = await h.storage.range('out');
    expect(written.map((e) => e.fields.payload)).toEqual(['{"n":0}', '{"n":0}', '{"n":1}', '{"n":1}']);
    const consumer = h.runtime.snapshot().consumers[0]!;
    expect(consumer.processed).toBe(3);
    expect(consumer.published).toBe(written.length);

    const metrics = createMetrics(h.runtime);
    const exposition = parsePrometheusText(await metrics.metrics());
    const labels = { stream: consumer.stream, group: consumer.group, consumer: consumer.consumer };
    expect(sampleValue(exposition, 'streamvisor_outputs_published_total', labels)).toBe(4);
    metrics.close();
  });

  it('counts nothing for messages that publish nothing', async () => {
    h = await startHarness((router) => router.on('t', () => {}));
    await h.add({ type: 't', payload: '{}' });
    await h.flush();
    expect(await h.pendingIds()).toEqual([]);
    expect(h.runtime.snapshot().consumers[0]!.published).toBe(0);
  });
});
