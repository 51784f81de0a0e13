/** isg parity's generic parts: the normalisers (stable tokens) and the step diff and its table. */
import { compareRecordings, diffStep, flatten, formatTable } from '../../adapters/parity/diff';
import { Normaliser } from '../../adapters/parity/normalise';
import { serialise } from '../../adapters/parity/recording';
import type { RecordedStep } from '../../adapters/parity/types';

const rules = { known: [['isgp-abc12345', '<scratch>'], ['isgp-abc12345-p1', '<product-1>'], ['127.0.0.1:4000', '<host>']] as Array<[string, string]>, opaqueKeys: ['marker'] };

describe('Normaliser', () => {
  const n = new Normaliser(rules);

  test('known values become tokens inside any string and key, the longest value first', () => {
    expect(n.value({ group: 'isgp-abc12345', msg: 'group isgp-abc12345-x not exists', p: 'isgp-abc12345-p1', HostId: '127.0.0.1:4000', 'isgp-abc12345': 1 })).toEqual({
      group: '<scratch>',
      msg: 'group <scratch>-x not exists',
      p: '<product-1>',
      HostId: '<host>',
      '<scratch>': 1,
    });
    expect(n.text('/v1/image/group/isgp-abc12345/info')).toBe('/v1/image/group/<scratch>/info');
  });

  test('request ids become one token, also where the answer repeats them', () => {
    const id = '9F4E1C2A-55B1-4C1D-9E7F-0123456789AB';
    expect(n.value({ RequestId: id, Recommend: `https://api.aliyun.com/troubleshoot?requestId=${id}`, request_id: 'abcdef0123456789' })).toEqual({
      RequestId: '<request-id>',
      Recommend: 'https://api.aliyun.com/troubleshoot?requestId=<request-id>',
      request_id: '<request-id>',
    });
  });

  test('timestamps in text and epoch numbers under time keys become <timestamp>; sentinels and small numbers stay', () => {
    expect(
      n.value({ created_at: '2026-12-05T12:43:07.123Z', registerDate: 'registered 20261205T124307Z', updateTime: 1764938587000, expiredDate: -1, UtcExpireTime: '2100-01-01T00:00:00Z', count: 1764938587000 }),
    ).toEqual({ created_at: '<timestamp>', registerDate: 'registered <timestamp>', updateTime: '<timestamp>', expiredDate: -1, UtcExpireTime: '2100-01-01T00:00:00Z', count: 1764938587000 });
  });

  test('scores keep only presence, range and order', () => {
    const out = n.value({ result: [{ id: 'a', score: 0.97 }, { id: 'b', score: 0.5 }, { id: 'c', score: 0.8 }, { id: 'd', score: 1.2 }, { id: 'e', sim: 0 }] });
    expect(out).toEqual({
      result: [
        { id: 'a', score: '<score>' },
        { id: 'b', score: '<score>' },
        { id: 'c', score: '<score:rises>' },
        { id: 'd', score: '<score:out-of-range>' },
        { id: 'e', sim: '<score>' },
      ],
    });
  });

  test('durations and opaque cursors become tokens; an empty cursor (the last page) stays', () => {
    expect(n.value({ Head: { SearchTime: 127, DocsFound: 3 }, marker: 'bWFya2Vy' })).toEqual({ Head: { SearchTime: '<duration>', DocsFound: 3 }, marker: '<cursor>' });
    expect(n.value({ marker: '' })).toEqual({ marker: '' });
  });

  test('two answers of the same behaviour normalise to the same bytes; a changed field does not', () => {
    const run = (scratch: string, id: string, time: string, score: number, label: string) =>
      serialise(
        new Normaliser({ known: [[scratch, '<scratch>']] }).value({ request_id: id, data: { library_name: scratch, created_at: time, results: [{ image_id: 'red', score, label }] } }),
      );
    const a = run('isgp-aaaaaaaa', 'req-0000000001', '2026-12-05T10:00:00Z', 0.93, 'red');
    expect(run('isgp-bbbbbbbb', 'req-0000000002', '2026-12-06T11:30:00Z', 0.91, 'red')).toBe(a);
    expect(run('isgp-bbbbbbbb', 'req-0000000002', '2026-12-06T11:30:00Z', 0.91, 'blue')).not.toBe(a);
  });
});

const step = (name: string, status: number, body: unknown): RecordedStep => ({ step: name, request: { method: 'POST', path: '/x' }, response: { status, contentType: 'application/json', body } });

describe('diff', () => {
  test('flatten gives leaf paths; empty objects and arrays are leaves', () => {
    expect(Object.fromEntries(flatten({ a: { b: [1, { c: 'x' }], e: {}, f: [] } }))).toEqual({ 'a.b[0]': '1', 'a.b[1].c': '"x"', 'a.e': '{}', 'a.f': '[]' });
  });

  test('diffStep names each differing field with both values, absent on one side included', () => {
    const recorded = step('delete', 200, { result: [], code: 0 });
    const observed = step('delete', 400, { error: 'no such entry' });
    expect(diffStep(recorded, observed)).toEqual([
      { field: 'response.status', recorded: '200', observed: '400' },
      { field: 'response.body.result', recorded: '[]', observed: undefined },
      { field: 'response.body.code', recorded: '0', observed: undefined },
      { field: 'response.body.error', observed: '"no such entry"' },
    ]);
    expect(diffStep(recorded, step('delete', 200, { result: [], code: 0 }))).toEqual([]);
  });

  test('compareRecordings: same, differs, missing and extra, and the table ends with the summary line', () => {
    const recorded = [step('a', 200, {}), step('b', 200, { n: 1 }), step('c', 200, {})];
    const observed = [step('a', 200, {}), step('b', 200, { n: 2 })];
    const outcomes = compareRecordings(recorded, observed);
    expect(outcomes.map((o) => o.result)).toEqual(['same', 'differs', 'missing']);
    const table = formatTable(outcomes, recorded.length);
    expect(table).toMatch(/^b\s+differs\n\s+response\.body\.n: 1 recorded, 2 observed$/m);
    expect(table.trimEnd().split('\n').pop()).toBe('parity: 1/3 steps identical');
    expect(compareRecordings(observed, recorded).map((o) => o.result)).toEqual(['same', 'differs', 'extra']);
  });
});
