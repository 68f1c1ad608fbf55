/**
 * A program as a Linux-driver-style C fragment: the real DMA API calls with
 * the program's arguments, device accesses as marked comments, and a small
 * header (written beside it) that declares just enough for
 * `gcc -fsyntax-only` to check it.
 */
import type { Program, Statement, SegmentRef, Direction } from '../program/ast.js';
import { printStatement } from '../program/print.js';
import { formatSize } from '../util/numbers.js';

export const C_HEADER_NAME = 'dmafuzz_repro.h';

const DIR: Record<Direction, string> = { to_device: 'DMA_TO_DEVICE', from_device: 'DMA_FROM_DEVICE', bidirectional: 'DMA_BIDIRECTIONAL' };

/** C identifiers can't clash with the header's: prefix every program name. */
const id = (name: string) => `v_${name}`;

export function programToC(p: Program, verdictComment: string[]): string {
  const devices = p.statements.filter((s) => s.op === 'dev').map((s) => s.bind!);
  const sizes = new Map<string, number>();
  const mapLens = new Map<string, { len: number; dir: Direction }>();
  const sgLists = new Map<string, number>();
  const decls: string[] = [];
  const body: string[] = [];
  const declare = (line: string) => decls.push(`\t${line}`);
  for (const s of p.statements) {
    const a = s.args;
    const dev = a.dev ? id(a.dev as string) : '';
    const src = printStatement({ ...s, comment: undefined });
    const emit = (...lines: string[]) => body.push(...lines.map((l) => `\t${l}`));
    switch (s.op) {
      case 'dev':
        emit(`/* ${src}: ${id(s.bind!)} drives ${a.width} address bits${a.nomask ? ', no DMA mask (dummy ops)' : ''} */`);
        break;
      case 'set_mask':
      case 'set_coherent_mask':
      case 'set_mask_and_coherent':
        emit(`ret = dma_${s.op}(${dev}, DMA_BIT_MASK(${a.bits}));`);
        break;
      case 'alloc_coherent':
        sizes.set(s.bind!, a.size as number);
        declare(`void *${id(s.bind!)};`);
        declare(`dma_addr_t ${id(s.bind!)}_dma;`);
        emit(`${id(s.bind!)} = dma_alloc_coherent(${dev}, ${a.size}, &${id(s.bind!)}_dma, GFP_KERNEL);`);
        break;
      case 'free_coherent':
        emit(`dma_free_coherent(${dev}, ${sizes.get(a.buf as string) ?? 0}, ${id(a.buf as string)}, ${id(a.buf as string)}_dma);`);
        break;
      case 'kmalloc': {
        const zone = a.zone === 'dma' ? ' | GFP_DMA' : a.zone === 'dma32' ? ' | GFP_DMA32' : '';
        sizes.set(s.bind!, a.size as number);
        declare(`void *${id(s.bind!)};`);
        emit(`${id(s.bind!)} = kmalloc(${a.size}, GFP_KERNEL${zone});`);
        break;
      }
      case 'kfree':
        emit(`kfree(${id(a.buf as string)});`);
        break;
      case 'map_single':
      case 'map_page': {
        const buf = id(a.buf as string);
        mapLens.set(s.bind!, { len: a.len as number, dir: a.dir as Direction });
        declare(`dma_addr_t ${id(s.bind!)};`);
        emit(
          s.op === 'map_single'
            ? `${id(s.bind!)} = dma_map_single(${dev}, (char *)${buf} + ${a.off}, ${a.len}, ${DIR[a.dir as Direction]});`
            : `${id(s.bind!)} = dma_map_page(${dev}, virt_to_page(${buf}), offset_in_page(${buf}) + ${a.off}, ${a.len}, ${DIR[a.dir as Direction]});`,
        );
        break;
      }
      case 'unmap_single':
      case 'unmap_page': {
        const m = mapLens.get(a.map as string);
        emit(`dma_${s.op}(${dev}, ${id(a.map as string)}, ${(a.len as number | undefined) ?? m?.len ?? 0}, ${DIR[(a.dir as Direction | undefined) ?? m?.dir ?? 'bidirectional']});`);
        break;
      }
      case 'mapping_error':
        emit(`if (dma_mapping_error(${dev}, ${id(a.map as string)}))`, `\treturn -ENOMEM;`);
        break;
      case 'map_sg': {
        const bufs = a.bufs as string[];
        const sg = id(s.bind!);
        sgLists.set(s.bind!, bufs.length);
        mapLens.set(s.bind!, { len: 0, dir: a.dir as Direction });
        declare(`struct scatterlist ${sg}_sgl[${bufs.length}];`);
        declare(`int ${sg}_nents;`);
        emit(`sg_init_table(${sg}_sgl, ${bufs.length});`);
        bufs.forEach((b, i) => emit(`sg_set_buf(&${sg}_sgl[${i}], ${id(b)}, ${sizes.get(b) ?? 0});`));
        emit(`${sg}_nents = dma_map_sg(${dev}, ${sg}_sgl, ${bufs.length}, ${DIR[a.dir as Direction]});`, `if (!${sg}_nents)`, `\treturn -ENOMEM;`);
        break;
      }
      case 'unmap_sg': {
        const sg = a.sg as string;
        emit(`dma_unmap_sg(${dev}, ${id(sg)}_sgl, ${sgLists.get(sg) ?? 0}, ${DIR[(a.dir as Direction | undefined) ?? mapLens.get(sg)?.dir ?? 'bidirectional']});`);
        break;
      }
      case 'sync_for_cpu':
      case 'sync_for_device': {
        const name = a.map as string;
        const m = mapLens.get(name);
        const dir = DIR[(a.dir as Direction | undefined) ?? m?.dir ?? 'bidirectional'];
        const way = s.op === 'sync_for_cpu' ? 'cpu' : 'device';
        if (sgLists.has(name)) emit(`dma_sync_sg_for_${way}(${dev}, ${id(name)}_sgl, ${sgLists.get(name)}, ${dir});`);
        else if (a.off !== undefined) emit(`dma_sync_single_range_for_${way}(${dev}, ${id(name)}, ${a.off}, ${a.len}, ${dir});`);
        else emit(`dma_sync_single_for_${way}(${dev}, ${id(name)}, ${m?.len ?? 0}, ${dir});`);
        break;
      }
      case 'cpu_write':
        emit(`dmafuzz_fill((char *)${id(a.buf as string)} + ${a.off}, ${a.len}, ${a.seed}); /* CPU writes the seed=${a.seed} pattern */`);
        break;
      case 'cpu_read':
        emit(`dmafuzz_check((char *)${id(a.buf as string)} + ${a.off}, ${a.len}); /* CPU reads and compares */`);
        break;
      case 'dev_write':
      case 'dev_read': {
        const h = a.handle as string | SegmentRef;
        const bus = typeof h === 'object' ? `sg_dma_address(&${id(h.name)}_sgl[${h.index}])` : sizes.has(h) && !mapLens.has(h) ? `${id(h)}_dma` : id(h);
        emit(`/* DEVICE: ${s.op === 'dev_write' ? `writes ${formatSize(a.len as number)} (seed=${a.seed})` : `reads ${formatSize(a.len as number)}`} at bus address ${bus} + ${a.off} */`);
        break;
      }
      case 'dev_write_raw':
      case 'dev_read_raw':
        emit(`/* ROGUE DEVICE: ${s.op === 'dev_write_raw' ? 'writes' : 'reads'} ${formatSize(a.len as number)} at bus address 0x${(a.addr as bigint).toString(16)} */`);
        break;
      case 'tick':
        emit('/* time passes: the lazy IOTLB flush queue drains (10 ms timer) */');
        break;
      case 'unbind':
        emit(`/* driver unbind of ${dev}: dma-debug reports pending mappings as leaks here */`);
        break;
    }
  }
  const params = devices.length ? devices.map((d) => `struct device *${id(d)}`).join(', ') : 'void';
  return [
    '/*',
    ' * dmafuzz repro, exported as a Linux-driver-style fragment.',
    ...verdictComment.map((l) => ` * ${l}`),
    ' */',
    `#include "${C_HEADER_NAME}"`,
    '',
    `int dmafuzz_repro(${params})`,
    '{',
    '\tint ret = 0;',
    ...decls,
    '',
    ...body,
    '\treturn ret;',
    '}',
    '',
  ].join('\n');
}

/** Just enough of the kernel's DMA API declarations for `gcc -fsyntax-only`. */
export const C_HEADER = `/* dmafuzz_repro.h: declarations for checking an exported repro outside the kernel tree. */
#ifndef DMAFUZZ_REPRO_H
#define DMAFUZZ_REPRO_H
#include <stddef.h>

typedef unsigned long long u64;
typedef u64 dma_addr_t;
typedef unsigned int gfp_t;
struct device;
struct page;
struct scatterlist { unsigned long page_link; unsigned int offset; unsigned int length; dma_addr_t dma_address; unsigned int dma_length; };
enum dma_data_direction { DMA_BIDIRECTIONAL = 0, DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2, DMA_NONE = 3 };

#define ENOMEM 12
#define GFP_KERNEL 0x0cc0u
#define GFP_DMA 0x01u
#define GFP_DMA32 0x04u
#define DMA_BIT_MASK(n) (((n) == 64) ? ~0ULL : ((1ULL << (n)) - 1))
#define sg_dma_address(sg) ((sg)->dma_address)

int dma_set_mask(struct device *dev, u64 mask);
int dma_set_coherent_mask(struct device *dev, u64 mask);
int dma_set_mask_and_coherent(struct device *dev, u64 mask);
void *dma_alloc_coherent(struct device *dev, size_t size, dma_addr_t *dma_handle, gfp_t gfp);
void dma_free_coherent(struct device *dev, size_t size, void *cpu_addr, dma_addr_t dma_handle);
dma_addr_t dma_map_single(struct device *dev, void *ptr, size_t size, enum dma_data_direction dir);
void dma_unmap_single(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir);
dma_addr_t dma_map_page(struct device *dev, struct page *page, size_t offset, size_t size, enum dma_data_direction dir);
void dma_unmap_page(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir);
int dma_map_sg(struct device *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir);
void dma_unmap_sg(struct device *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir);
int dma_mapping_error(struct device *dev, dma_addr_t dma_addr);
void dma_sync_single_for_cpu(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir);
void dma_sync_single_for_device(struct device *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir);
void dma_sync_single_range_for_cpu(struct device *dev, dma_addr_t addr, unsigned long offset, size_t size, enum dma_data_direction dir);
void dma_sync_single_range_for_device(struct device *dev, dma_addr_t addr, unsigned long offset, size_t size, enum dma_data_direction dir);
void dma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sg, int nelems, enum dma_data_direction dir);
void dma_sync_sg_for_device(struct device *dev, struct scatterlist *sg, int nelems, enum dma_data_direction dir);
void *kmalloc(size_t size, gfp_t flags);
void kfree(const void *objp);
struct page *virt_to_page(const void *addr);
unsigned long offset_in_page(const void *addr);
void sg_init_table(struct scatterlist *sgl, unsigned int nents);
void sg_set_buf(struct scatterlist *sg, const void *buf, unsigned int buflen);

/* the seed=N pattern of the dmafuzz format (mulberry32, see docs/format.md) */
static inline void dmafuzz_fill(void *dst, size_t len, unsigned int seed)
{
	unsigned char *p = dst;
	size_t i;
	for (i = 0; i < len; i++) {
		unsigned int z = seed + (unsigned int)(i / 4 + 1) * 0x6D2B79F5u;
		z = (z ^ (z >> 15)) * (z | 1u);
		z ^= z + (z ^ (z >> 7)) * (z | 61u);
		z ^= z >> 14;
		p[i] = (unsigned char)(z >> (8 * (i % 4)));
	}
}

/* where the repro's CPU reads its data; the contract says what it should be */
static inline void dmafuzz_check(const void *src, size_t len)
{
	(void)src;
	(void)len;
}

#endif
`;
