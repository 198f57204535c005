import { startTestStack, startOtlpReceiver } from '@parley/testing';
const receiver = await startOtlpReceiver();
console.log('receiver', receiver.url);
const t0 = Date.now();
try {
  const stack = await startTestStack({ verbose: true, env: { all: { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '100' } } });
  console.log('up in', Date.now() - t0);
  await stack.cleanup();
} catch (e) { console.log('failed', Date.now() - t0, e); }
await receiver.close();
