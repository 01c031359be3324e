/* imap_seqset.c - IMAP sequence sets and UID sets as merged ranges */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

#include "imap_seqset.h"

/* imap_seqset_init - an empty set */
void
imap_seqset_init(struct imap_seqset *s)
{
	memset(s, 0, sizeof(*s));
}

/* imap_seqset_deinit - free the ranges */
void
imap_seqset_deinit(struct imap_seqset *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

/* imap_seqset_clear - empty the set, keeping its memory */
void
imap_seqset_clear(struct imap_seqset *s)
{
	s->count = 0;
	s->star = false;
	s->star_from = 0;
	s->max_explicit = 0;
}

/* reserve - room for n ranges */
static void
reserve(struct imap_seqset *s, size_t n)
{
	size_t alloc;

	if (n <= s->alloc)
		return;
	alloc = s->alloc == 0 ? 4 : s->alloc;
	while (alloc < n)
		alloc *= 2;
	s->r = xreallocarray(s->r, alloc, sizeof(*s->r));
	s->alloc = alloc;
}

/* imap_seqset_copy - dst becomes a copy of src */
void
imap_seqset_copy(struct imap_seqset *dst, const struct imap_seqset *src)
{
	if (dst == src)
		return;
	imap_seqset_clear(dst);
	reserve(dst, src->count);
	if (src->count > 0)
		memcpy(dst->r, src->r, src->count * sizeof(*src->r));
	dst->count = src->count;
	dst->star = src->star;
	dst->star_from = src->star_from;
	dst->max_explicit = src->max_explicit;
}

/* range_cmp - qsort order by lower bound */
static int
range_cmp(const void *a, const void *b)
{
	const struct imap_seq_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* normalise - sort and merge overlapping or touching ranges */
static void
normalise(struct imap_seqset *s)
{
	size_t i, out;
	bool sorted = true;

	for (i = 1; i < s->count; i++) {
		if (s->r[i].lo < s->r[i - 1].lo) {
			sorted = false;
			break;
		}
	}
	if (!sorted)
		qsort(s->r, s->count, sizeof(*s->r), range_cmp);
	for (out = 0, i = 0; i < s->count; i++) {
		/* hi + 1 as 64 bits: hi may be UINT32_MAX */
		if (out > 0 && (uint64_t)s->r[out - 1].hi + 1 >= s->r[i].lo) {
			if (s->r[i].hi > s->r[out - 1].hi)
				s->r[out - 1].hi = s->r[i].hi;
			continue;
		}
		s->r[out++] = s->r[i];
	}
	s->count = out;
}

/* parse_num - nz-number or "*" (returned as 0) at *pp */
static int
parse_num(const char **pp, const char *end, uint32_t *n_r,
    const char **error_r)
{
	const char *p = *pp;
	uint64_t v = 0;

	if (p < end && *p == '*') {
		*pp = p + 1;
		*n_r = 0;
		return 0;
	}
	if (p >= end || *p < '0' || *p > '9') {
		*error_r = "Invalid sequence set";
		return -1;
	}
	if (*p == '0') {
		*error_r = "Invalid sequence set: numbers start at 1";
		return -1;
	}
	for (; p < end && *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX) {
			*error_r = "Invalid sequence set: number too large";
			return -1;
		}
	}
	*pp = p;
	*n_r = (uint32_t)v;
	return 0;
}

/* imap_seqset_parse - sequence-set text into sorted ranges */
int
imap_seqset_parse(struct imap_seqset *s, const char *str, size_t len,
    bool no_star, const char **error_r)
{
	const char *p = str, *end = str + len;
	uint32_t a, b;

	imap_seqset_clear(s);
	if (len == 0) {
		*error_r = "Empty sequence set";
		return -1;
	}
	for (;;) {
		if (parse_num(&p, end, &a, error_r) < 0)
			goto fail;
		b = a;
		if (p < end && *p == ':') {
			p++;
			if (parse_num(&p, end, &b, error_r) < 0)
				goto fail;
		}
		if ((a == 0 || b == 0) && no_star) {
			*error_r =
			    "Invalid sequence set: * is not allowed here";
			goto fail;
		}
		if (a == 0 || b == 0) {
			/* "n:*", "*:n", "*", "*:*" */
			uint32_t n = a == 0 ? b : a;

			s->star = true;
			if (n != 0 && (s->star_from == 0 || n < s->star_from))
				s->star_from = n;
			if (n > s->max_explicit)
				s->max_explicit = n;
		} else {
			reserve(s, s->count + 1);
			s->r[s->count].lo = a < b ? a : b;
			s->r[s->count].hi = a < b ? b : a;
			s->count++;
			if (a > s->max_explicit)
				s->max_explicit = a;
			if (b > s->max_explicit)
				s->max_explicit = b;
		}
		if (p == end)
			break;
		if (*p != ',') {
			*error_r = "Invalid sequence set";
			goto fail;
		}
		p++;
	}
	normalise(s);
	return 0;
fail:
	imap_seqset_clear(s);
	return -1;
}

/* imap_seqset_resolve - fold "*" in against max and clip to 1..max */
int
imap_seqset_resolve(struct imap_seqset *s, uint32_t max, bool uid)
{
	uint32_t lo;

	if (!uid && (s->count > 0 || s->star) &&
	    (max == 0 || s->max_explicit > max))
		return -1;
	if (s->star && max > 0) {
		lo = s->star_from == 0 || s->star_from > max ? max :
		    s->star_from;
		imap_seqset_add_range(s, lo, max);
	}
	s->star = false;
	s->star_from = 0;
	if (max < UINT32_MAX)
		imap_seqset_remove_range(s, max + 1, UINT32_MAX);
	s->max_explicit = imap_seqset_max(s);
	return 0;
}

/* first_reaching - index of the first range whose hi + 1 >= n */
static size_t
first_reaching(const struct imap_seqset *s, uint64_t n)
{
	size_t lo = 0, hi = s->count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((uint64_t)s->r[mid].hi + 1 >= n)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* imap_seqset_add - add one number */
void
imap_seqset_add(struct imap_seqset *s, uint32_t n)
{
	imap_seqset_add_range(s, n, n);
}

/* imap_seqset_add_range - add lo..hi, merging with what it touches */
void
imap_seqset_add_range(struct imap_seqset *s, uint32_t lo, uint32_t hi)
{
	size_t i, j;

	if (lo > hi) {
		uint32_t t = lo;

		lo = hi;
		hi = t;
	}
	if (lo == 0)
		lo = 1;		/* 0 is never a member */
	if (hi == 0)
		return;
	if (hi > s->max_explicit)
		s->max_explicit = hi;
	/* fast path: appending in ascending order */
	if (s->count == 0 || lo > (uint64_t)s->r[s->count - 1].hi + 1) {
		reserve(s, s->count + 1);
		s->r[s->count].lo = lo;
		s->r[s->count].hi = hi;
		s->count++;
		return;
	}
	i = first_reaching(s, lo);
	/* ranges i..j-1 overlap or touch lo..hi */
	for (j = i; j < s->count && s->r[j].lo <= (uint64_t)hi + 1; j++)
		;
	if (j == i) {
		reserve(s, s->count + 1);
		memmove(&s->r[i + 1], &s->r[i],
		    (s->count - i) * sizeof(*s->r));
		s->r[i].lo = lo;
		s->r[i].hi = hi;
		s->count++;
		return;
	}
	if (s->r[i].lo < lo)
		lo = s->r[i].lo;
	if (s->r[j - 1].hi > hi)
		hi = s->r[j - 1].hi;
	s->r[i].lo = lo;
	s->r[i].hi = hi;
	memmove(&s->r[i + 1], &s->r[j], (s->count - j) * sizeof(*s->r));
	s->count -= j - i - 1;
}

/* imap_seqset_remove_range - take lo..hi out, splitting a range if need be */
void
imap_seqset_remove_range(struct imap_seqset *s, uint32_t lo, uint32_t hi)
{
	size_t i, j;
	struct imap_seq_range first, last;

	if (lo > hi) {
		uint32_t t = lo;

		lo = hi;
		hi = t;
	}
	if (hi == 0 || s->count == 0)
		return;
	if (lo == 0)
		lo = 1;
	/* first range with hi >= lo */
	i = first_reaching(s, (uint64_t)lo + 1);
	for (j = i; j < s->count && s->r[j].lo <= hi; j++)
		;
	if (i == j)
		return;
	first = s->r[i];
	last = s->r[j - 1];
	if (first.lo < lo && last.hi > hi) {
		if (i == j - 1) {
			/* one range split in two */
			reserve(s, s->count + 1);
			memmove(&s->r[i + 1], &s->r[i],
			    (s->count - i) * sizeof(*s->r));
			s->count++;
			s->r[i].hi = lo - 1;
			s->r[i + 1].lo = hi + 1;
			return;
		}
		s->r[i].hi = lo - 1;
		s->r[i + 1].lo = hi + 1;
		s->r[i + 1].hi = last.hi;
		memmove(&s->r[i + 2], &s->r[j], (s->count - j) * sizeof(*s->r));
		s->count -= j - i - 2;
		return;
	}
	if (first.lo < lo) {
		s->r[i].hi = lo - 1;
		i++;
	}
	if (last.hi > hi) {
		s->r[j - 1].lo = hi + 1;
		j--;
	}
	if (j > i) {
		memmove(&s->r[i], &s->r[j], (s->count - j) * sizeof(*s->r));
		s->count -= j - i;
	}
}

/* take - move the ranges of tmp into dst */
static void
take(struct imap_seqset *dst, struct imap_seqset *tmp)
{
	free(dst->r);
	*dst = *tmp;
	dst->max_explicit = imap_seqset_max(dst);
}

/* imap_seqset_union - dst = a | b */
void
imap_seqset_union(struct imap_seqset *dst, const struct imap_seqset *a,
    const struct imap_seqset *b)
{
	struct imap_seqset tmp;
	size_t i = 0, j = 0;
	const struct imap_seq_range *next;

	imap_seqset_init(&tmp);
	reserve(&tmp, a->count + b->count);
	while (i < a->count || j < b->count) {
		if (j >= b->count || (i < a->count && a->r[i].lo <= b->r[j].lo))
			next = &a->r[i++];
		else
			next = &b->r[j++];
		imap_seqset_add_range(&tmp, next->lo, next->hi);
	}
	take(dst, &tmp);
}

/* imap_seqset_intersect - dst = a & b */
void
imap_seqset_intersect(struct imap_seqset *dst, const struct imap_seqset *a,
    const struct imap_seqset *b)
{
	struct imap_seqset tmp;
	size_t i = 0, j = 0;
	uint32_t lo, hi;

	imap_seqset_init(&tmp);
	while (i < a->count && j < b->count) {
		lo = a->r[i].lo > b->r[j].lo ? a->r[i].lo : b->r[j].lo;
		hi = a->r[i].hi < b->r[j].hi ? a->r[i].hi : b->r[j].hi;
		if (lo <= hi)
			imap_seqset_add_range(&tmp, lo, hi);
		if (a->r[i].hi < b->r[j].hi)
			i++;
		else
			j++;
	}
	take(dst, &tmp);
}

/* imap_seqset_contains - binary search of the ranges */
bool
imap_seqset_contains(const struct imap_seqset *s, uint32_t n)
{
	size_t lo = 0, hi = s->count, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->r[mid].hi < n)
			lo = mid + 1;
		else if (s->r[mid].lo > n)
			hi = mid;
		else
			return true;
	}
	return false;
}

/* imap_seqset_is_empty - no explicit range and no "*" */
bool
imap_seqset_is_empty(const struct imap_seqset *s)
{
	return s->count == 0 && !s->star;
}

/* imap_seqset_count - numbers in the explicit ranges */
uint64_t
imap_seqset_count(const struct imap_seqset *s)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < s->count; i++)
		n += (uint64_t)s->r[i].hi - s->r[i].lo + 1;
	return n;
}

/* imap_seqset_min - smallest member or 0 */
uint32_t
imap_seqset_min(const struct imap_seqset *s)
{
	return s->count == 0 ? 0 : s->r[0].lo;
}

/* imap_seqset_max - largest member or 0 */
uint32_t
imap_seqset_max(const struct imap_seqset *s)
{
	return s->count == 0 ? 0 : s->r[s->count - 1].hi;
}

/* imap_seqset_iter_init - start before the smallest number */
void
imap_seqset_iter_init(struct imap_seqset_iter *it, const struct imap_seqset *s)
{
	it->set = s;
	it->i = 0;
	it->next = s->count > 0 ? s->r[0].lo : 0;
}

/* imap_seqset_iter_next - the next number, false at the end */
bool
imap_seqset_iter_next(struct imap_seqset_iter *it, uint32_t *n_r)
{
	const struct imap_seqset *s = it->set;

	if (it->i >= s->count)
		return false;
	*n_r = (uint32_t)it->next;
	/* next is 64 bits so that hi == UINT32_MAX ends the range */
	if (it->next >= s->r[it->i].hi) {
		it->i++;
		if (it->i < s->count)
			it->next = s->r[it->i].lo;
	} else {
		it->next++;
	}
	return true;
}

/* imap_seqset_format - "1:4,7" */
int
imap_seqset_format(const struct imap_seqset *s, struct buf *out)
{
	size_t i, start = buf_avail(out);
	int r = 0;

	for (i = 0; i < s->count && r == 0; i++) {
		if (i > 0)
			r = buf_append_byte(out, ',');
		if (r == 0 && s->r[i].lo == s->r[i].hi)
			r = buf_printf(out, "%u", s->r[i].lo);
		else if (r == 0)
			r = buf_printf(out, "%u:%u", s->r[i].lo, s->r[i].hi);
	}
	if (r == 0 && s->star) {
		if (s->count > 0)
			r = buf_append_byte(out, ',');
		if (r == 0 && s->star_from != 0)
			r = buf_printf(out, "%u:*", s->star_from);
		else if (r == 0)
			r = buf_append_byte(out, '*');
	}
	if (r < 0) {
		/* leave out as it was: no half-written set (an append may
		 * have compacted the buffer, so count from off) */
		out->len = out->off + start;
		if (out->data != NULL)
			out->data[out->len] = '\0';
	}
	return r;
}
