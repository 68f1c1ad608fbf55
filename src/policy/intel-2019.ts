/**
 * `intel-2019`: intel-iommu's iommu_need_mapping() of v5.4. Devices start in
 * the static identity domain. At every map/unmap/sync/alloc/free, a device
 * still in the identity domain whose smaller mask cannot reach all RAM is
 * moved, once and for good, to a fresh private translated domain, and the
 * call goes through the IOMMU. Handles handed out directly before the move
 * are not migrated. Setting a mask decides nothing (dma_supported is
 * dma_direct_supported).
 */
import { GO_DIRECT, GO_IOMMU, NO_CHANGE, smallerMask, type BypassPolicy } from './policy.js';

export const intel2019Policy: BypassPolicy = {
  name: 'intel-2019',
  description: 'intel-iommu v5.4: identity until a call sees a small mask, then a private DMA domain for good',
  probe: () => ({ attach: 'identity' }),
  maskChanged: () => NO_CHANGE,
  route(_call, dev, facts) {
    if (dev.domain !== 'identity') return GO_IOMMU;
    if (smallerMask(dev) >= facts.requiredMaskBits) return GO_DIRECT;
    return { path: 'iommu', attach: 'fresh-translated' };
  },
};
