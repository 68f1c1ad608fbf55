/**
 * The modelled latency: simulated nanoseconds charged by the model for each
 * piece of work, so that an IOMMU path and a bypass path can be compared.
 * Defaults and their sources: ../shared/background/latency-sources.md
 * section 6 (row numbers in comments); docs/cost-model.md explains them.
 * These are not the simulator's own speed (that is the measured latency).
 */
export interface CostTable {
  /** row 1: dma-direct map, coherent x86 */
  directMapNs: number;
  /** row 2 */
  directUnmapNs: number;
  /** row 5: dma-iommu fixed overhead per map or unmap call */
  iommuCallNs: number;
  /** row 6: IOVA allocation (rcache hit) */
  iovaAllocNs: number;
  /** row 9: IOVA free */
  iovaFreeNs: number;
  /** row 10: page-table install, first 4 KiB leaf */
  ptInstallFirstNs: number;
  /** row 11: each additional page */
  ptInstallNextNs: number;
  /** row 12: allocate and zero a page-table page */
  ptTableAllocNs: number;
  /** row 13: page-table clear, per leaf */
  ptClearNs: number;
  /** row 15: strict IOTLB invalidation, synchronous */
  iotlbInvalNs: number;
  /** row 16: each extra page in the same strict invalidation */
  iotlbInvalPerPageNs: number;
  /** row 18: lazy unmap, enqueue in the flush queue */
  fqEnqueueNs: number;
  /** row 19: one domain-wide flush */
  fqFlushNs: number;
  /** row 21: swiotlb slot allocate / free */
  swiotlbAllocNs: number;
  swiotlbFreeNs: number;
  /** row 22: bounce copy per byte */
  swiotlbCopyPerByteNs: number;
  /** row 24: a device access of up to 64 bytes, no IOMMU */
  deviceAccessNs: number;
  /** per further 64-byte burst of the same access */
  deviceBurstNs: number;
  /** row 26: IOTLB miss, upper levels cached */
  iotlbMissNs: number;
  /** row 27: per page-walk level that misses */
  walkLevelNs: number;
  /** coherent allocation through the page allocator (not in the table: estimate) */
  pageAllocNs: number;
}

export const DEFAULT_COSTS: Readonly<CostTable> = Object.freeze({
  directMapNs: 20,
  directUnmapNs: 10,
  iommuCallNs: 50,
  iovaAllocNs: 30,
  iovaFreeNs: 30,
  ptInstallFirstNs: 100,
  ptInstallNextNs: 3,
  ptTableAllocNs: 300,
  ptClearNs: 30,
  iotlbInvalNs: 700,
  iotlbInvalPerPageNs: 80,
  fqEnqueueNs: 50,
  fqFlushNs: 1000,
  swiotlbAllocNs: 100,
  swiotlbFreeNs: 50,
  swiotlbCopyPerByteNs: 0.1,
  deviceAccessNs: 600,
  deviceBurstNs: 10,
  iotlbMissNs: 250,
  walkLevelNs: 90,
  pageAllocNs: 200,
});
