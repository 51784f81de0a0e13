/**
 * Migration numbers, each in one place. None is a vendor fact: they are the project's choices, listed in
 * docs/migration.md.
 */

/** How long an upstream may take to answer before the client gets the vendor's "unavailable" error. */
export const UPSTREAM_TIMEOUT_MS_DEFAULT = 60_000;

/**
 * Shadow mode: local replays waiting per library. Past this the gateway stops replaying (and counts the
 * calls as skipped) rather than holding an unbounded queue while the engine catches up.
 */
export const SHADOW_QUEUE_MAX = 256;

/** Overlap@k compares at most this many top results (k is smaller when the upstream returned fewer). */
export const OVERLAP_K_MAX = 10;

/** Latency percentiles are computed over the most recent calls of each library. */
export const LATENCY_WINDOW = 1000;

/** The header a shadow replay carries so the migration layer lets it through to the local adapter. */
export const LOCAL_REPLAY_HEADER = 'x-isg-shadow-replay';
