/**
 * Who may use the control plane's state-changing and inspecting endpoints (reset, faults, request log).
 * open auth mode (local use, loopback only): anyone, as LocalStack and moto allow. verify mode: callers
 * sending `Authorization: Bearer <key>` with a key of control.adminKeys; without such keys configured,
 * those endpoints are refused. Health, readiness and docs are always open; /metrics is behind the same keys
 * in verify mode unless control.metrics is "open" (adapters/control/index.ts).
 */
import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { AuthMode } from '../config';
import { sendControlError } from './answers';

const BEARER = /^Bearer ([\x21-\x7e]{1,256})$/;

export function requireAdmin(mode: AuthMode, adminKeys: readonly string[] = []) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (mode === 'open') return next();
    if (adminKeys.length === 0) {
      return sendControlError(res, 403, 'CONTROL_DISABLED', 'The control plane needs control.adminKeys in the config when auth.mode is verify.');
    }
    const key = BEARER.exec(req.headers.authorization?.trim() ?? '')?.[1];
    if (key === undefined || !adminKeys.some((k) => same(k, key))) {
      return sendControlError(res, 401, 'UNAUTHORIZED', 'A control.adminKeys key is required (Authorization: Bearer <key>).');
    }
    next();
  };
}

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
