/* image-int.h: what image.c, image-write.c, image-read.c and image-info.c share. */
#ifndef OMM_IMAGE_INT_H
#define OMM_IMAGE_INT_H

#include <stdint.h>

#include "omm/buf.h"
#include "omm/image.h"

#define IMG_FRAME_HDR	16	/* u32 type, u32 flags, u64 length */
#define IMG_FRAME_CRC	4
#define IMG_SEC_MAX	IMG_SEC_THREAD	/* the highest type number */

/* Sizes of the fixed parts of the payloads, for "can this length be right". */
#define IMG_PAGES_HDR	8	/* u32 count, u32 reserved */
#define IMG_END_LEN	16
#define IMG_TIMERS_HDR	(4 + IMG_NITIMERS * 16 + 4)	/* itimers, count */
#define IMG_PTIMER_LEN	(4 * 4 + 3 * 8 + 4)	/* one POSIX timer */
#define IMG_X86_PAGE	4096	/* vma bounds are in base pages on x86-64 */

/* 1 for a type this omm knows (the numbering has gaps). */
int		 img_sec_known(uint32_t type);
/* "HEADER", "PROC", ...; "section" for a type out of range. */
const char	*img_sec_name(uint32_t type);
/* Largest payload a section of this type can need (page_size for PAGES). */
uint64_t	 img_sec_maxlen(uint32_t type, uint32_t page_size);
/* Smallest payload a section of this type can have. */
uint64_t	 img_sec_minlen(uint32_t type);

/* The metadata sections, in the order the writer emits them. */
struct img_meta_codec {
	uint32_t	 type;
	void		(*encode)(const struct img *, struct buf *);
	int		(*decode)(struct img *, const void *, size_t, char **);
};
#define IMG_NMETA	7
extern const struct img_meta_codec img_meta_codecs[IMG_NMETA];

/* Per-type tallies the reader keeps, for image info. */
struct img_sec_stats {
	uint64_t	count[IMG_SEC_MAX + 1];
	uint64_t	bytes[IMG_SEC_MAX + 1];	/* whole frames */
};
void		 img_reader_stats(const struct img_reader *, struct img_sec_stats *);

#endif
