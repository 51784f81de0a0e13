/** Gives every request an id (the caller's X-Request-Id when sane, else a new UUID) and echoes it. */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
  }
}

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestId(header = 'x-request-id') {
  return (req: Request, res: Response, next: NextFunction): void => {
    const given = req.headers[header];
    req.id = typeof given === 'string' && SANE_ID.test(given) ? given : randomUUID();
    res.setHeader('X-Request-Id', req.id);
    next();
  };
}
