/**
 * `commit-on-map`: the "committed mask" Robin Murphy asked for. The decision
 * is taken at the device's first allocation or mapping: direct (identity
 * domain) iff the smaller mask reaches all RAM, else a translated domain; it
 * never changes after. Later masks only constrain placement (zone, swiotlb,
 * IOVA limit) within the committed path. Before the commit the device sits
 * in an empty translated domain, so stray DMA is blocked.
 */
import { GO_DIRECT, GO_IOMMU, NO_CHANGE, smallerMask, type BypassPolicy } from './policy.js';

const UNCOMMITTED = 0;
const COMMITTED_DIRECT = 1;
const COMMITTED_IOMMU = 2;

export const commitOnMapPolicy: BypassPolicy = {
  name: 'commit-on-map',
  description: 'decide once, at the first allocation or mapping, from the masks then in force',
  probe: () => ({ attach: 'fresh-translated', state: UNCOMMITTED }),
  maskChanged: () => NO_CHANGE,
  route(call, dev, facts) {
    if (dev.state === COMMITTED_DIRECT) return GO_DIRECT;
    if (dev.state === COMMITTED_IOMMU) return GO_IOMMU;
    if (call !== 'map' && call !== 'alloc') return GO_IOMMU;
    if (smallerMask(dev) >= facts.requiredMaskBits) return { path: 'direct', attach: 'identity', state: COMMITTED_DIRECT };
    return { path: 'iommu', state: COMMITTED_IOMMU };
  },
};
