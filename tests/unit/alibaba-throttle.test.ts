import { InstanceThrottle } from '../../adapters/alibaba/throttle';

describe('Alibaba instance QPS throttle (sliding second, fixed clock)', () => {
  test('admits qps requests per second per instance, refuses the rest, recovers after a second', () => {
    let now = 10_000;
    const throttle = new InstanceThrottle([{ tenant: 't', name: 'shop', qps: 2 }], () => now);
    expect([throttle.admit('t', 'shop'), throttle.admit('t', 'shop'), throttle.admit('t', 'shop')]).toEqual([true, true, false]);
    now += 999;
    expect(throttle.admit('t', 'shop')).toBe(false); // still within the second of the first two
    now += 1;
    expect(throttle.admit('t', 'shop')).toBe(true); // the first two have left the window
    expect(throttle.admit('t', 'shop')).toBe(true);
    expect(throttle.admit('t', 'shop')).toBe(false);
  });

  test('a refused request is not counted, and other instances and tenants are independent', () => {
    let now = 0;
    const throttle = new InstanceThrottle([{ tenant: 't', name: 'a', qps: 1 }], () => now);
    expect(throttle.admit('t', 'a')).toBe(true);
    for (let i = 0; i < 5; i++) expect(throttle.admit('t', 'a')).toBe(false);
    now = 1000;
    expect(throttle.admit('t', 'a')).toBe(true);
    expect(throttle.admit('t', 'b')).toBe(true); // no limit configured
    expect(throttle.admit('u', 'a')).toBe(true); // another tenant's instance of the same name
    expect(throttle.qpsOf('t', 'a')).toBe(1);
    expect(throttle.qpsOf('t', 'b')).toBeUndefined();
  });
});
