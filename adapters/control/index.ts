/** The gateway's own surface under /_gateway: health and readiness (more control endpoints come later). */
import { Router } from 'express';

export function controlRouter(state: { ready: () => boolean }): Router {
  const router = Router();
  router.get('/health', (_req, res) => {
    res.status(state.ready() ? 200 : 503).json({ status: state.ready() ? 'ok' : 'starting' });
  });
  router.get('/ready', (_req, res) => {
    res.status(state.ready() ? 200 : 503).json({ ready: state.ready() });
  });
  return router;
}
