/**
 * Back-pressure: the embedding queue is bounded (embedding.maxQueue), and a full queue is answered with
 * each vendor's own throttling error, the same one fault injection uses (each adapter's FAULT_CATALOG),
 * instead of growing memory.
 */
import { QuotaExceededError } from '../../core/errors';
import { PREFIX as OPERATOR } from '../../adapters/operator/limits';
import { STATUS, toOperatorError } from '../../adapters/operator/errors';
import { toHuaweiAnswer } from '../../adapters/huawei/errors';
import { toAlibabaError } from '../../adapters/alibaba/errors';
import { ERRORS as QINIU_ERRORS, toQiniuError } from '../../adapters/qiniu/errors';
import { FAULT_CATALOG as OPERATOR_FAULTS } from '../../adapters/operator';
import { FAULT_CATALOG as HUAWEI_FAULTS } from '../../adapters/huawei';
import { FAULT_CATALOG as ALIBABA_FAULTS } from '../../adapters/alibaba';
import { FAULT_CATALOG as QINIU_FAULTS } from '../../adapters/qiniu';
import { get, post, startTestGateway } from '../helpers/gateway';
import { makeScene } from '../helpers/synthetic-images';

test('a full queue is each vendor\'s throttling answer', () => {
  const full = new QuotaExceededError('queue', 'embedding queue is full');
  expect(toOperatorError(full).status).toBe(OPERATOR_FAULTS.throttle);
  expect(toOperatorError(full).http).toBe(429);
  const huawei = toHuaweiAnswer(full);
  expect([huawei.kind, huawei.error.code]).toEqual(['gateway', HUAWEI_FAULTS.throttle]);
  expect(toAlibabaError(full).code).toBe(ALIBABA_FAULTS.throttle);
  expect(toQiniuError(full)).toBe(QINIU_ERRORS[QINIU_FAULTS.throttle as keyof typeof QINIU_ERRORS]);
});

test('with a queue of one, a burst of adds gets 429 TOO_MANY_REQUESTS for some and the gateway keeps serving', async () => {
  const gw = await startTestGateway({ embedding: { maxQueue: 1, maxBatch: 1 } });
  try {
    await post(`${gw.url}${OPERATOR}/library/create`, { library_name: 'busy', mode: 'general_search' });
    const images = await Promise.all(Array.from({ length: 12 }, (_, i) => makeScene(i, 320, 240)));
    const statuses: string[] = [];
    // Bursts until the queue has overflowed once (each burst makes that overwhelmingly likely).
    for (let burst = 0; burst < 10 && !statuses.includes(STATUS.tooManyRequests); burst++) {
      const answers = await Promise.all(
        images.map((img, i) =>
          post(`${gw.url}${OPERATOR}/image/add`, { library_name: 'busy', image_id: `b${burst}-${i}`, image_uri: 'x', image_base64: img.toString('base64') }),
        ),
      );
      statuses.push(...answers.map((a) => `${a.body.status}`));
      for (const a of answers) expect([200, 429]).toContain(a.status);
    }
    expect(statuses).toContain(STATUS.tooManyRequests);
    expect(statuses).toContain(STATUS.success);
    expect((await get(`${gw.url}/_gateway/health`)).status).toBe(200);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toContain(`isg_requests_total{vendor="operator",operation="image/add",status="429",error_code="${STATUS.tooManyRequests}"}`);
  } finally {
    await gw.destroy();
  }
});
