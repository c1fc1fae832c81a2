/* hashmap.h: open-addressing hash sets and maps with linear probing.
 *
 * PCA_DEFINE_HASH_SET(name, key_type, hash_fn, empty_key) defines `struct
 * name` and static inline name_init, name_deinit, name_reserve,
 * name_contains and name_insert. PCA_DEFINE_HASH_MAP(name, key_type,
 * value_type, hash_fn, empty_key) adds a parallel value array and defines
 * name_init, name_deinit, name_reserve, name_search and name_insert.
 *
 * Both are one table (PCA_DEFINE_HASH_TABLE_): a set is a table whose value
 * array is never allocated.
 *
 * Keys are compared with ==; `empty_key` marks a free slot and can never be
 * stored (0 for addresses: no object lives at address 0). hash_fn(key)
 * returns a size_t whose low bits pick the slot, so it must mix the key
 * (a Fibonacci multiply, shifted). The table is a power of two, at most half
 * full, and doubles when an insert would pass that; sizes are checked for
 * overflow and a failed allocation returns false with the table unchanged.
 *
 * Not here: deletion (no user needs it, and it would cost tombstones),
 * iteration order guarantees (slots follow the hash; sort if output order
 * matters), and keys that are not plain values.
 */
#ifndef PCA_BASE_HASHMAP_H
#define PCA_BASE_HASHMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Fibonacci hashing of a 64-bit key: the high bits of key * 2^64/phi. */
static inline size_t pca_hash_u64(uint64_t key, unsigned shift)
{
	return (size_t)((key * 0x9e3779b97f4a7c15ull) >> shift);
}

/* The capacity (a power of two, at least 16) that keeps `count` keys at
 * most half full; false on overflow. */
static inline bool pca_hash_capacity_for(size_t count, size_t *ret)
{
	size_t cap = 16;
	while (cap / 2 < count) {
		if (cap > SIZE_MAX / 2)
			return false;
		cap *= 2;
	}
	*ret = cap;
	return true;
}

/* The table shared by sets and maps: keys, and values when with_values. */
#define PCA_DEFINE_HASH_TABLE_(name, key_type, value_type, with_values, hash_fn, empty_key)  \
	struct name {                                                                     \
		key_type *keys;                                                           \
		value_type *values; /* NULL in a set */                                  \
		size_t count, capacity; /* capacity: 0 or a power of two */              \
	};                                                                                \
	__attribute__((unused)) static inline void name##_init(struct name *t)            \
	{                                                                                 \
		t->keys = NULL;                                                           \
		t->values = NULL;                                                         \
		t->count = t->capacity = 0;                                               \
	}                                                                                 \
	__attribute__((unused)) static inline void name##_deinit(struct name *t)          \
	{                                                                                 \
		free(t->keys);                                                            \
		free(t->values);                                                          \
		name##_init(t);                                                           \
	}                                                                                 \
	static inline size_t name##_slot_(key_type *keys, size_t capacity, key_type key)  \
	{                                                                                 \
		size_t mask = capacity - 1;                                               \
		size_t i = (size_t)(hash_fn(key)) & mask;                                 \
		while (keys[i] != (empty_key) && keys[i] != key)                          \
			i = (i + 1) & mask;                                               \
		return i;                                                                 \
	}                                                                                 \
	/* Room for `n` keys in all without growing. */                                  \
	__attribute__((unused)) static inline bool name##_reserve(struct name *t,         \
								  size_t n)               \
	{                                                                                 \
		size_t cap;                                                               \
		if (!pca_hash_capacity_for(n, &cap))                                      \
			return false;                                                     \
		if (cap <= t->capacity)                                                   \
			return true;                                                      \
		if (cap > SIZE_MAX / sizeof(key_type) ||                                  \
		    cap > SIZE_MAX / sizeof(value_type))                                  \
			return false;                                                     \
		key_type *keys = malloc(cap * sizeof(key_type));                          \
		value_type *values = (with_values) ? malloc(cap * sizeof(value_type)) : NULL; \
		if (!keys || ((with_values) && !values)) {                                \
			free(keys);                                                       \
			free(values);                                                     \
			return false;                                                     \
		}                                                                         \
		for (size_t i = 0; i < cap; i++)                                          \
			keys[i] = (empty_key);                                            \
		for (size_t i = 0; i < t->capacity; i++) {                                \
			if (t->keys[i] == (empty_key))                                    \
				continue;                                                 \
			size_t j = name##_slot_(keys, cap, t->keys[i]);                   \
			keys[j] = t->keys[i];                                             \
			if (with_values)                                                  \
				values[j] = t->values[i];                                 \
		}                                                                         \
		free(t->keys);                                                            \
		free(t->values);                                                          \
		t->keys = keys;                                                           \
		t->values = values;                                                       \
		t->capacity = cap;                                                        \
		return true;                                                              \
	}                                                                                 \
	/* The slot of key, or SIZE_MAX. */                                               \
	static inline size_t name##_find_(const struct name *t, key_type key)             \
	{                                                                                 \
		if (!t->capacity)                                                         \
			return SIZE_MAX;                                                  \
		size_t i = name##_slot_(t->keys, t->capacity, key);                       \
		return t->keys[i] == key ? i : SIZE_MAX;                                  \
	}                                                                                 \
	/* The slot of key, added if absent (*added_ret); false on ENOMEM. */             \
	static inline bool name##_add_(struct name *t, key_type key, size_t *slot_ret,    \
				       bool *added_ret)                                   \
	{                                                                                 \
		if ((t->count + 1) * 2 > t->capacity && !name##_reserve(t, t->count + 1)) \
			return false;                                                     \
		size_t i = name##_slot_(t->keys, t->capacity, key);                       \
		*added_ret = t->keys[i] != key;                                           \
		if (*added_ret) {                                                         \
			t->keys[i] = key;                                                 \
			t->count++;                                                       \
		}                                                                         \
		*slot_ret = i;                                                            \
		return true;                                                              \
	}

#define PCA_DEFINE_HASH_SET(name, key_type, hash_fn, empty_key)                           \
	PCA_DEFINE_HASH_TABLE_(name, key_type, char, 0, hash_fn, empty_key)               \
	__attribute__((unused)) static inline bool name##_contains(const struct name *s,  \
								   key_type key)          \
	{                                                                                 \
		return name##_find_(s, key) != SIZE_MAX;                                  \
	}                                                                                 \
	/* Add key (not empty_key). *inserted_ret: false if it was there. False on    \
	 * ENOMEM. */                                                                    \
	__attribute__((unused)) static inline bool name##_insert(struct name *s,          \
								 key_type key,            \
								 bool *inserted_ret)      \
	{                                                                                 \
		size_t slot;                                                              \
		return name##_add_(s, key, &slot, inserted_ret);                          \
	}

#define PCA_DEFINE_HASH_MAP(name, key_type, value_type, hash_fn, empty_key)               \
	PCA_DEFINE_HASH_TABLE_(name, key_type, value_type, 1, hash_fn, empty_key)         \
	/* The value of key, or NULL. Valid until the next insert. */                    \
	__attribute__((unused)) static inline value_type *name##_search(                  \
		const struct name *m, key_type key)                                       \
	{                                                                                 \
		size_t i = name##_find_(m, key);                                          \
		return i == SIZE_MAX ? NULL : &m->values[i];                              \
	}                                                                                 \
	/* Set key (not empty_key) to value, replacing an old value. False on ENOMEM. \
	 */                                                                              \
	__attribute__((unused)) static inline bool name##_insert(struct name *m,          \
								 key_type key,            \
								 value_type value)        \
	{                                                                                 \
		size_t slot;                                                              \
		bool added;                                                               \
		if (!name##_add_(m, key, &slot, &added))                                  \
			return false;                                                     \
		m->values[slot] = value;                                                  \
		return true;                                                              \
	}

#endif
