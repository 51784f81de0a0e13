/** SlotTable answers as a Map would, dense or spread, through growth below and above and the switch to a Map. */
import { SlotTable } from '../../core/store/embedded/slot-table';
import { prng } from '../helpers/prng';

function check(table: SlotTable, model: Map<number, number>, probes: number[]) {
  expect(table.size).toBe(model.size);
  for (const key of probes) expect([key, table.get(key)]).toEqual([key, model.get(key)]);
}

test.each([
  ['dense, ascending', (i: number) => 1000 + i],
  ['dense, descending', (i: number) => 50_000 - i],
  ['two libraries filled in turns', (i: number) => 7 + 2 * i],
  ['spread thin: becomes a Map', (i: number) => i * 100_003],
])('%s', (_name, keyOf) => {
  const rand = prng(5);
  const table = new SlotTable();
  const model = new Map<number, number>();
  const keys: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const key = keyOf(i);
    keys.push(key);
    table.set(key, i);
    model.set(key, i);
    if (rand() < 0.2) {
      // move an existing key to another slot, or delete one
      const other = keys[Math.floor(rand() * keys.length)];
      if (rand() < 0.5) (table.delete(other), model.delete(other));
      else (table.set(other, i + 10_000), model.set(other, i + 10_000));
    }
  }
  const probes = [...keys, -1, 0, keys[0] - 1, Math.max(...keys) + 1, 2 ** 40];
  check(table, model, probes);
  table.delete(-5); // absent: nothing changes
  check(table, model, probes);
});

test('slot 0 is a slot, not an absence', () => {
  const table = new SlotTable();
  table.set(42, 0);
  expect(table.get(42)).toBe(0);
  expect(table.get(41)).toBeUndefined();
  table.delete(42);
  expect(table.get(42)).toBeUndefined();
  expect(table.size).toBe(0);
});
