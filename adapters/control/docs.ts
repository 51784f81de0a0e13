/**
 * /docs: an index page and the OpenAPI documents of the mounted vendor APIs and the control plane
 * (/docs/<name>.json), generated from schemas/ by openapi.ts. Plain HTML, nothing loaded from elsewhere.
 */
import { Router } from 'express';
import type { VendorAdapter } from '../vendor';
import { documentsOf, openApiDocument, type ApiDocument } from './openapi';

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function indexPage(docs: Record<string, ApiDocument>): string {
  const sections = Object.keys(docs)
    .map((name) => {
      const d = docs[name];
      const rows = d.routes
        .map((r) => `<tr><td><code>${r.method.toUpperCase()}</code></td><td><code>${escape(d.server === '/' ? r.path : d.server + r.path)}</code></td><td>${escape(r.summary)}</td><td><code>${escape(r.operation)}</code></td></tr>`)
        .join('');
      return `<section><h2>${escape(d.title)} <a href="/docs/${name}.json">${name}.json</a></h2><p>${escape(d.description)}</p><table><thead><tr><th>Method</th><th>Path</th><th>What</th><th>Operation</th></tr></thead><tbody>${rows}</tbody></table></section>`;
    })
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>image-search-gateway API documents</title><style>body{font:14px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:70rem;padding:0 1rem;color:#1d2330}table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #e3e6ee;padding:.3rem .5rem;text-align:left}h2 a{font-size:.8rem;font-weight:normal;margin-left:.5rem}code{font-size:.85rem}</style></head><body><h1>API documents</h1><p>OpenAPI 3.1, generated from <code>schemas/</code>. The operation names are the ones the request log, metrics and fault rules use.</p>${sections}</body></html>`;
}

export function docsRouter(vendors: readonly VendorAdapter[]): Router {
  const router = Router();
  const docs = documentsOf(vendors);
  const page = indexPage(docs);
  router.get('/docs', (_req, res) => {
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'");
    res.type('html').send(page);
  });
  router.get('/docs/:name.json', (req, res) => {
    const name = req.params.name;
    if (!Object.hasOwn(docs, name)) return void res.status(404).json({ error: { code: 'NOT_FOUND', message: `no API document '${name}'` } });
    res.json(openApiDocument(docs[name]));
  });
  return router;
}
