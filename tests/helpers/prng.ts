/** Tests and benchmarks share the engine's seeded PRNG. */
export { prng } from '../../core/prng';
