/**
 * What one DMA API call did, beyond its return value: the path it took, its
 * modelled cost, the kernel log lines it produced and, if the layer broke
 * its own contract, a layer error. One object per layer, reused per call.
 */
export type MapPath = 'direct' | 'bounce' | 'iommu' | 'none';

export class CallOutcome {
  path: MapPath = 'none';
  costNs = 0;
  /** kernel log lines (WARN text, DMAR faults, swiotlb full, ...) */
  log: string[] = [];
  /** set when the layer failed a legal call or could not find a handle it returned */
  layerError: string | undefined = undefined;
  /** a domain switch that happened during the call, for the trace */
  domainChange: string | undefined = undefined;

  clear(): void {
    this.path = 'none';
    this.costNs = 0;
    if (this.log.length > 0) this.log.length = 0;
    this.layerError = undefined;
    this.domainChange = undefined;
  }
}
