/**
 * The V8 flags the gateway's process starts with: in isg's shebang (so `npx isg serve` has them), in
 * `npm start`, in the Dockerfile's CMD and in the benches' gateway process. tests/unit/node-flags.test.ts
 * checks that each of those places carries them. V8 reads these when the process starts; `isg serve`
 * started without them (`node dist/bin/isg.js serve`) works the same, and says so in its first log line.
 *
 * --initial-old-space-size=128: the gateway's own heap is small (~18 MB), and with V8's default limit for
 * a heap that size a full mark-compact started again as soon as the last one ended: one every ~25 images
 * at ingest, about a seventh of the process's CPU (2 threads marking, the main thread finalising). With
 * the old generation allowed 128 MB before its first collection, ingest ran ~6 full collections per 900
 * images instead of 56 (npm run bench, docs/operations.md). A library loaded into memory grows the heap
 * past this anyway; it is a floor, not a limit.
 */
export const GATEWAY_NODE_FLAGS: readonly string[] = ['--initial-old-space-size=128'];

/** The flags this process was not started with. */
export function missingNodeFlags(execArgv: readonly string[] = process.execArgv): string[] {
  return GATEWAY_NODE_FLAGS.filter((flag) => !execArgv.includes(flag));
}
