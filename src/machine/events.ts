/**
 * The model's interesting branches, as bits of one machine register. Each
 * part of the model sets the bit of a branch it takes (a bounce, a full
 * swiotlb pool, an IOVA fallback, a page-table allocation, a lazy flush, a
 * fault reason, an oracle check that ran, ...). When the executor collects
 * coverage, it reads and clears the register after every statement and
 * turns each set bit into a coverage edge from that statement; otherwise
 * the bits simply pile up until the machine's reset. Setting a bit costs
 * one OR on a typed array, so the model marks its branches whether or not
 * anyone is collecting.
 */
import type { MachineViews } from './layout.js';

/** Event bits (at most 32: one Int32 register). */
export const Ev = {
  /** a policy decision attached the device to another domain */
  DomainChange: 0,
  /** swiotlb took a mapping (dma-direct could not reach the buffer) */
  Bounce: 1,
  /** swiotlb copied between a bounce slot and the original buffer */
  BounceCopy: 2,
  /** swiotlb had no room (or the mapping was over its segment limit) */
  SwiotlbFull: 3,
  /** a device with a wider mask got an IOVA below 4 GiB (the first try) */
  IovaBelow4G: 4,
  /** the space below 4 GiB was full: the wider mask's range was used */
  IovaFallbackAbove4G: 5,
  /** no IOVA range of the size was left under the mask */
  IovaExhausted: 6,
  /** mapping needed a new page-table page */
  PageTableAlloc: 7,
  /** lazy mode: an unmapped range joined the flush queue */
  LazyQueue: 8,
  /** lazy mode: a domain's flush queue was drained (full queue or the timer) */
  LazyFlush: 9,
  /** strict mode: the unmap invalidated the IOTLB at once */
  StrictInvalidate: 10,
  /** DMAR fault reason 4: address beyond the IOMMU's width */
  Fault4: 11,
  /** DMAR fault reason 5: write not permitted */
  Fault5: 12,
  /** DMAR fault reason 6: read not permitted */
  Fault6: 13,
  /** a device access went through an IOTLB entry whose page-table entry is gone */
  StaleIotlbHit: 14,
  /** the IOTLB missed and the page tables were walked */
  IotlbMiss: 15,
  /** map_sg merged a segment into the previous one */
  SgMerged: 16,
  /** dma-direct was handed a handle it did not produce */
  DirectHandleMismatch: 17,
  /** the IOMMU path was handed a handle its domain did not produce */
  IommuUnmatched: 18,
  /** the page allocator had no memory for the request */
  NoMemory: 19,
  /** oracle: a device read was compared with what the contract says it must see */
  OracleDeviceRead: 20,
  /** oracle: a CPU read was compared with what the contract says it must see */
  OracleCpuRead: 21,
  /** oracle: a rogue device access was contained (fault or no memory) */
  RogueContained: 22,
  /** oracle: a rogue device access reached memory */
  RogueEscaped: 23,
  /** a handle was used on another path than the one it was last used on (direct>iommu, ...) */
  PathSwitch: 24,
} as const;

export const EVENT_COUNT = Object.keys(Ev).length;

/** Event names by bit, for docs and tests. */
export const EVENT_NAMES: readonly string[] = Object.entries(Ev)
  .sort((a, b) => a[1] - b[1])
  .map(([name]) => name);

/** Sets an event bit in the machine's event register. */
export function mark(v: MachineViews, ev: number): void {
  v.events[0] = v.events[0]! | (1 << ev);
}

/** Reads and clears the event register (what the statement just done set; 0 for nothing). */
export function takeEvents(v: MachineViews): number {
  const e = v.events[0]!;
  if (e !== 0) v.events[0] = 0;
  return e;
}
