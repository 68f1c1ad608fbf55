/**
 * The bypass-policy interface: the one question the mapping layer asks,
 * "does this call go direct or through the IOMMU, and does the device change
 * domain first?". The layer consults it at exactly one place
 * (src/dma/mapping.ts `route`). Built-in policies and user modules
 * (`policy=./my-policy.js`) implement the same interface.
 */

/** The DMA API calls a policy is asked about. */
export type CallKind = 'map' | 'unmap' | 'sync' | 'alloc' | 'free';

export type Path = 'direct' | 'iommu';

/** Where the device sits, as a policy sees it. */
export type DomainKind = 'none' | 'identity' | 'translated';

/**
 * A domain change a policy may ask for. `fresh-translated` attaches a new,
 * empty translated domain (existing mappings stay in the old one, which is
 * torn down); `fresh-translated-window` does the same with the bypass window
 * (all RAM 1:1 at PA + 2^59).
 */
export type DomainRequest = 'none' | 'identity' | 'fresh-translated' | 'fresh-translated-window';

/**
 * What a policy sees of a device. Masks are widths in bits (0 = no mask).
 * Valid during the call only: the layer refills the same object for the next
 * question, so a policy that wants to remember something keeps `state`.
 */
export interface PolicyDevice {
  readonly maskBits: number;
  readonly coherentBits: number;
  readonly domain: DomainKind;
  /** whether the device's translated domain has the bypass window */
  readonly window: boolean;
  /** policy-owned per-device state; starts at 0, kept in the machine buffer */
  readonly state: number;
}

export interface PolicyFacts {
  /** dma_direct_get_required_mask for the RAM (33 for the default machine) */
  readonly requiredMaskBits: number;
  /** the same for a direct path through the bypass window (60 for the default machine) */
  readonly windowRequiredMaskBits: number;
}

export interface Decision {
  path: Path;
  /** a domain change to make before the call runs */
  attach?: DomainRequest;
  /** new per-device policy state */
  state?: number;
}

export interface DomainChange {
  attach?: DomainRequest;
  state?: number;
}

export interface BypassPolicy {
  readonly name: string;
  /** one line for --help and reports */
  readonly description: string;
  /** Where a new device starts (it has the 32-bit masks of a new PCI device). */
  probe(dev: PolicyDevice, facts: PolicyFacts): DomainChange;
  /** After every successful set_mask / set_coherent_mask (each half of set_mask_and_coherent). */
  maskChanged(dev: PolicyDevice, facts: PolicyFacts): DomainChange;
  /** At every map / unmap / sync / alloc / free: the path, and any domain change first. */
  route(call: CallKind, dev: PolicyDevice, facts: PolicyFacts): Decision;
}

/** The smaller of the two masks, ignoring an unset (0) coherent mask, as intel-iommu 5.4 does. */
export function smallerMask(dev: PolicyDevice): number {
  return dev.coherentBits > 0 ? Math.min(dev.maskBits, dev.coherentBits) : dev.maskBits;
}

/** The mask a call kind is judged by: coherent for alloc/free, streaming otherwise. */
export function maskFor(call: CallKind, dev: PolicyDevice): number {
  return call === 'alloc' || call === 'free' ? dev.coherentBits : dev.maskBits;
}

export const NO_CHANGE: DomainChange = Object.freeze({});

/** The two plain answers, shared: a route is asked at every call, and an object per answer is garbage per call. */
export const GO_DIRECT: Decision = Object.freeze({ path: 'direct' });
export const GO_IOMMU: Decision = Object.freeze({ path: 'iommu' });
