/**
 * `default-domain`: Robin Murphy's sketch in the thread, swapping the
 * device's default domain and ops when its mask changes. Every successful
 * set_*mask decides from the smaller mask: big enough, identity domain and
 * direct ops; else translated and iommu ops. It switches both ways whatever
 * is mapped, and every switch to translated attaches a fresh, empty domain.
 */
import { GO_DIRECT, GO_IOMMU, NO_CHANGE, smallerMask, type BypassPolicy, type DomainChange, type PolicyDevice, type PolicyFacts } from './policy.js';

function decide(dev: PolicyDevice, facts: PolicyFacts): DomainChange {
  const wantIdentity = smallerMask(dev) >= facts.requiredMaskBits;
  if (wantIdentity) return dev.domain === 'identity' ? NO_CHANGE : { attach: 'identity' };
  return dev.domain === 'translated' ? NO_CHANGE : { attach: 'fresh-translated' };
}

export const defaultDomainPolicy: BypassPolicy = {
  name: 'default-domain',
  description: 'decide at every set_*mask: identity + direct ops, or a fresh translated domain + iommu ops',
  probe: decide,
  maskChanged: decide,
  route: (_call, dev) => (dev.domain === 'identity' ? GO_DIRECT : GO_IOMMU),
};
