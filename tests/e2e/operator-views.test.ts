/**
 * Views through the operator API (a gateway addition, docs/compatibility/operator.md): `views` on
 * library/create, `models.views` and `libraries[].views` in the config. The answers keep their shape;
 * what changes is that a mirrored copy finds its original with a high score.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { loadSettings } from '../../bin/config';
import { startGateway } from '../../bin/gateway';
import { PREFIX } from '../../adapters/operator/limits';
import { STATUS } from '../../adapters/operator/errors';
import { VIEW_NAMES } from '../../core/image/views';
import configSchema from '../../schemas/config.json';
import libraryCreateSchema from '../../schemas/operator/library-create.json';
import { post, startTestGateway, type TestGateway } from '../helpers/gateway';
import { makeScene } from '../helpers/synthetic-images';

const b64 = (b: Buffer) => b.toString('base64');

test('both schemas name exactly the engine\'s views', () => {
  expect(configSchema.definitions.views.items.enum).toEqual([...VIEW_NAMES]);
  expect(libraryCreateSchema.properties.views.items.enum).toEqual([...VIEW_NAMES]);
});

describe('a gateway with the default views setting', () => {
  let gw: TestGateway;
  const op = (path: string, body: unknown) => post(`${gw.url}${PREFIX}/${path}`, body);
  const scenes: Buffer[] = [];

  beforeAll(async () => {
    gw = await startTestGateway();
    for (let seed = 0; seed < 8; seed++) scenes.push(await makeScene(300 + seed, 640, 480));
    expect((await op('library/create', { library_name: 'viewed', mode: 'general_search' })).status).toBe(200);
    expect((await op('library/create', { library_name: 'plain', mode: 'general_search', views: ['whole'] })).status).toBe(200);
    for (const library_name of ['viewed', 'plain']) {
      for (const [i, scene] of scenes.entries()) {
        const res = await op('image/add', { library_name, image_id: `s${i}`, image_uri: `s${i}.jpg`, image_base64: b64(scene) });
        expect(res.status).toBe(200);
      }
    }
  });
  afterAll(() => gw.destroy());

  test('a mirrored copy finds its original first, scoring higher than in a library made without views', async () => {
    const mirrored = await sharp(scenes[2]).flop().jpeg({ quality: 85 }).toBuffer();
    const search = (library_name: string) => op('search/by-image', { library_name, image_base64: b64(mirrored), top_k: 8 });
    const viewed = await search('viewed');
    const plain = await search('plain');
    expect(viewed.body.data.results[0]).toMatchObject({ image_id: 's2' });
    expect(viewed.body.data.results[0].score).toBeGreaterThan(0.85);
    const plainScore = plain.body.data.results.find((r: { image_id: string }) => r.image_id === 's2').score;
    expect(viewed.body.data.results[0].score).toBeGreaterThan(plainScore);
    // Same answer shape either way; one result per image.
    expect(Object.keys(viewed.body.data.results[0]).sort()).toEqual(Object.keys(plain.body.data.results[0]).sort());
    expect(new Set(viewed.body.data.results.map((r: { image_id: string }) => r.image_id)).size).toBe(8);
    const described = await op('library/describe', { library_name: 'viewed' });
    expect(described.body.data.image_count).toBe(8);
  });

  test('unknown or misordered views are the operator\'s INVALID_PARAMETER', async () => {
    for (const views of [['sideways'], ['mirror', 'whole'], []]) {
      const res = await op('library/create', { library_name: 'bad', mode: 'general_search', views });
      expect([res.status, res.body.status]).toEqual([400, STATUS.invalidParameter]);
      expect(res.body.message).toContain('views');
    }
  });
});

test('models.views "off" in the config file makes new libraries index the whole picture only; libraries[].views overrides it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-views-config-'));
  const configFile = path.join(dir, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({ models: { views: 'off' }, libraries: [{ tenant: 'default', name: 'configured', mode: 'general_search', views: ['whole', 'mirror'] }] }),
  );
  const gw = await startGateway(loadSettings({ port: 0, host: '127.0.0.1', dataDir: path.join(dir, 'data'), configFile }, {}), pino({ level: 'silent' }));
  const op = (path: string, body: unknown) => post(`${gw.url}${PREFIX}/${path}`, body);
  try {
    const scene = await makeScene(77, 640, 480);
    const mirrored = await sharp(scene).flop().jpeg({ quality: 85 }).toBuffer();
    await op('library/create', { library_name: 'off', mode: 'general_search' });
    for (const library_name of ['off', 'configured']) {
      expect((await op('image/add', { library_name, image_id: 'a', image_uri: 'a.jpg', image_base64: b64(scene) })).status).toBe(200);
    }
    const score = async (library_name: string) =>
      (await op('search/by-image', { library_name, image_base64: b64(mirrored), top_k: 1 })).body.data.results[0].score as number;
    expect(await score('configured')).toBeGreaterThan(0.85);
    expect(await score('off')).toBeLessThan(await score('configured'));
  } finally {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config file with an unknown view is refused at start', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'isg-views-config-'));
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify({ models: { views: ['whole', 'sideways'] } }));
  try {
    expect(() => loadSettings({ configFile }, {})).toThrow(/views/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
