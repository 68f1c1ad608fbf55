/**
 * `bypass-flag`: the per-device dma_ops_bypass flag as merged for 5.9
 * (dma_go_direct in kernel/dma/mapping.c). The device sits in one translated
 * domain with the bypass window for its whole life; each call goes direct
 * (through the window) iff the mask it is judged by (streaming for
 * map/unmap/sync, coherent for alloc/free) covers the window's top, decided
 * afresh at every call. Nothing remembers which path created a handle.
 */
import { GO_DIRECT, GO_IOMMU, NO_CHANGE, maskFor, type BypassPolicy } from './policy.js';

export const bypassFlagPolicy: BypassPolicy = {
  name: 'bypass-flag',
  description: 'dma_ops_bypass (5.9): one windowed domain for life; direct iff this call\'s mask covers the window',
  probe: () => ({ attach: 'fresh-translated-window' }),
  maskChanged: () => NO_CHANGE,
  route: (call, dev, facts) => (maskFor(call, dev) >= facts.windowRequiredMaskBits ? GO_DIRECT : GO_IOMMU),
};
