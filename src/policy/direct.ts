/** `direct`: a machine without an IOMMU. dma-direct and swiotlb for everything. */
import { GO_DIRECT, NO_CHANGE, type BypassPolicy } from './policy.js';

export const directPolicy: BypassPolicy = {
  name: 'direct',
  description: 'no IOMMU: dma-direct, bouncing through swiotlb what the mask cannot reach',
  probe: () => ({ attach: 'none' }),
  maskChanged: () => NO_CHANGE,
  route: () => GO_DIRECT,
};
