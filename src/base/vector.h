/* vector.h: growable arrays.
 *
 * PCA_DEFINE_VECTOR(name, type) defines `struct name { type *data; size_t
 * size, capacity; }` and static inline functions name_init, name_deinit,
 * name_reserve, name_append, name_append_entry, name_pop, name_shrink_to_fit
 * and name_steal. Growth is geometric (capacity doubles, from a small
 * minimum), so n appends cost O(n); every size computation is checked for
 * overflow. A failed allocation leaves the vector as it was and returns
 * false (or NULL): the caller turns that into pca_error_nomem.
 *
 * pca_vector_grow() (PCA_VECTOR_GROW) is the same growth step for an array
 * that lives as a bare pointer and count in a struct other layers read (the
 * data pointer and count keep their names; only a capacity is added), and
 * pca_array_resize() (PCA_ARRAY_RESIZE) an overflow-checked realloc to an
 * exact size for arrays that grow together under one capacity, and
 * pca_lower_bound_u64() the binary search of a sorted array of addresses.
 *
 * Not here: bounds checks on indexing (data[i] is a plain array), element
 * destructors (the owner frees what elements point to before _deinit), and
 * any limit on what the core may make us allocate (callers bound sizes read
 * from the core before growing).
 */
#ifndef PCA_BASE_VECTOR_H
#define PCA_BASE_VECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Make *data hold at least `needed` elements of elem_size bytes, doubling
 * *capacity (starting at min_capacity, at least 1). False on overflow or
 * ENOMEM, with *data and *capacity unchanged. */
static inline bool pca_vector_grow(void **data, size_t *capacity, size_t needed,
				   size_t elem_size, size_t min_capacity)
{
	if (needed <= *capacity)
		return true;
	size_t cap = *capacity ? *capacity : (min_capacity ? min_capacity : 1);
	while (cap < needed) {
		if (cap > SIZE_MAX / 2)
			return false;
		cap *= 2;
	}
	if (elem_size && cap > SIZE_MAX / elem_size)
		return false;
	void *p = realloc(*data, cap * elem_size);
	if (!p)
		return false;
	*data = p;
	*capacity = cap;
	return true;
}

/* Make *data hold exactly n elements (n > 0) of elem_size bytes: for arrays
 * whose capacity the caller tracks itself, and to give back unused space.
 * False on overflow or ENOMEM, with *data unchanged. */
static inline bool pca_array_resize(void **data, size_t n, size_t elem_size)
{
	if (!n || (elem_size && n > SIZE_MAX / elem_size))
		return false;
	void *p = realloc(*data, n * elem_size);
	if (!p)
		return false;
	*data = p;
	return true;
}

/* Typed wrappers: T **data. */
#define PCA_ARRAY_RESIZE(data_ptr, n) \
	pca_array_resize((void **)(data_ptr), (n), sizeof(**(data_ptr)))

/* The first index i of the ascending a[0..n) with a[i] >= key (n if none). */
static inline size_t pca_lower_bound_u64(const uint64_t *a, size_t n, uint64_t key)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (a[mid] < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}
#define PCA_VECTOR_GROW(data_ptr, capacity_ptr, needed, min_capacity)                        \
	pca_vector_grow((void **)(data_ptr), (capacity_ptr), (needed), sizeof(**(data_ptr)), \
			(min_capacity))

#define PCA_DEFINE_VECTOR(name, type)                                                     \
	struct name {                                                                     \
		type *data;                                                               \
		size_t size, capacity;                                                    \
	};                                                                                \
	__attribute__((unused)) static inline void name##_init(struct name *v)            \
	{                                                                                 \
		v->data = NULL;                                                           \
		v->size = v->capacity = 0;                                                \
	}                                                                                 \
	__attribute__((unused)) static inline void name##_deinit(struct name *v)          \
	{                                                                                 \
		free(v->data);                                                            \
		name##_init(v);                                                           \
	}                                                                                 \
	/* Room for `n` elements in all (not n more). */                                 \
	__attribute__((unused)) static inline bool name##_reserve(struct name *v,         \
								  size_t n)               \
	{                                                                                 \
		return pca_vector_grow((void **)&v->data, &v->capacity, n, sizeof(type),  \
				       8);                                                \
	}                                                                                 \
	/* A new uninitialised last element, or NULL on ENOMEM. */                       \
	__attribute__((unused)) static inline type *name##_append_entry(struct name *v)   \
	{                                                                                 \
		if (v->size == v->capacity &&                                             \
		    (v->size == SIZE_MAX || !name##_reserve(v, v->size + 1)))             \
			return NULL;                                                      \
		return &v->data[v->size++];                                               \
	}                                                                                 \
	__attribute__((unused)) static inline bool name##_append(struct name *v,          \
								 const type *e)           \
	{                                                                                 \
		type *slot = name##_append_entry(v);                                      \
		if (!slot)                                                                \
			return false;                                                     \
		memcpy(slot, e, sizeof(type));                                            \
		return true;                                                              \
	}                                                                                 \
	__attribute__((unused)) static inline type *name##_pop(struct name *v)            \
	{                                                                                 \
		return v->size ? &v->data[--v->size] : NULL;                              \
	}                                                                                 \
	/* Give back unused capacity; keeps the old buffer if realloc fails. */          \
	__attribute__((unused)) static inline void name##_shrink_to_fit(struct name *v)   \
	{                                                                                 \
		if (v->size == v->capacity)                                               \
			return;                                                           \
		if (!v->size) {                                                           \
			name##_deinit(v);                                                 \
			return;                                                           \
		}                                                                         \
		type *p = realloc(v->data, v->size * sizeof(type));                       \
		if (p) {                                                                  \
			v->data = p;                                                      \
			v->capacity = v->size;                                            \
		}                                                                         \
	}                                                                                 \
	/* Hand the buffer to the caller (who frees it); the vector is empty after. */   \
	__attribute__((unused)) static inline type *name##_steal(struct name *v,          \
								 size_t *size_ret)        \
	{                                                                                 \
		type *p = v->data;                                                        \
		if (size_ret)                                                             \
			*size_ret = v->size;                                              \
		name##_init(v);                                                           \
		return p;                                                                 \
	}

#endif
