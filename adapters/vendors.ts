/**
 * The vendor adapters the gateway serves, in mount order: a request is offered to each in turn (app.ts),
 * and the migration layer asks `owns` in the same order. The only file outside a vendor's folder that
 * names one. Order matters where spaces overlap: Qiniu's /v1/image before Huawei's /v1/{project_id}.
 * To add a vendor: write adapters/<vendor>/adapter.ts (docs/architecture.md, "Adding a fifth vendor") and
 * list it here.
 */
import { ALIBABA } from './alibaba/adapter';
import { HUAWEI } from './huawei/adapter';
import { OPERATOR } from './operator/adapter';
import { QINIU } from './qiniu/adapter';
import type { VendorAdapter } from './vendor';

export const VENDORS: readonly VendorAdapter[] = [OPERATOR, ALIBABA, QINIU, HUAWEI];

/** Whose image rules `isg import` applies when no --vendor is given: the gateway's own API's. */
export const DEFAULT_IMPORT_VENDOR: VendorAdapter = OPERATOR;
