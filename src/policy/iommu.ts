/** `iommu`: every device in a translated domain for life; never bypass. */
import { GO_IOMMU, NO_CHANGE, type BypassPolicy } from './policy.js';

export const iommuPolicy: BypassPolicy = {
  name: 'iommu',
  description: 'every device in its own translated domain; every call through the IOMMU',
  probe: () => ({ attach: 'fresh-translated' }),
  maskChanged: () => NO_CHANGE,
  route: () => GO_IOMMU,
};
