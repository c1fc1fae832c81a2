/* hashmap.h: open-addressing hash sets and maps with linear probing.
 *
 * PCA_DEFINE_HASH_SET(name, key_type, hash_fn, empty_key) defines `struct
 * name` and static inline name_init, name_deinit, name_reserve,
 * name_contains and name_insert. PCA_DEFINE_HASH_MAP(name, key_type,
 * value_type, hash_fn, empty_key) adds a parallel value array and defines
 * name_init, name_deinit, name_reserve, name_search and name_insert.
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

#define PCA_DEFINE_HASH_SET(name, key_type, hash_fn, empty_key)                           \
	struct name {                                                                     \
		key_type *keys;                                                           \
		size_t count, capacity; /* capacity: 0 or a power of two */              \
	};                                                                                \
	__attribute__((unused)) static inline void name##_init(struct name *s)            \
	{                                                                                 \
		s->keys = NULL;                                                           \
		s->count = s->capacity = 0;                                               \
	}                                                                                 \
	__attribute__((unused)) static inline void name##_deinit(struct name *s)          \
	{                                                                                 \
		free(s->keys);                                                            \
		name##_init(s);                                                           \
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
	__attribute__((unused)) static inline bool name##_reserve(struct name *s,         \
								  size_t n)               \
	{                                                                                 \
		size_t cap;                                                               \
		if (!pca_hash_capacity_for(n, &cap))                                      \
			return false;                                                     \
		if (cap <= s->capacity)                                                   \
			return true;                                                      \
		if (cap > SIZE_MAX / sizeof(key_type))                                    \
			return false;                                                     \
		key_type *keys = malloc(cap * sizeof(key_type));                          \
		if (!keys)                                                                \
			return false;                                                     \
		for (size_t i = 0; i < cap; i++)                                          \
			keys[i] = (empty_key);                                            \
		for (size_t i = 0; i < s->capacity; i++)                                  \
			if (s->keys[i] != (empty_key))                                    \
				keys[name##_slot_(keys, cap, s->keys[i])] = s->keys[i];   \
		free(s->keys);                                                            \
		s->keys = keys;                                                           \
		s->capacity = cap;                                                        \
		return true;                                                              \
	}                                                                                 \
	__attribute__((unused)) static inline bool name##_contains(const struct name *s,  \
								   key_type key)          \
	{                                                                                 \
		if (!s->capacity)                                                         \
			return false;                                                     \
		return s->keys[name##_slot_(s->keys, s->capacity, key)] == key;           \
	}                                                                                 \
	/* Add key (not empty_key). *inserted_ret: false if it was there. False on    \
	 * ENOMEM. */                                                                    \
	__attribute__((unused)) static inline bool name##_insert(struct name *s,          \
								 key_type key,            \
								 bool *inserted_ret)      \
	{                                                                                 \
		if ((s->count + 1) * 2 > s->capacity && !name##_reserve(s, s->count + 1)) \
			return false;                                                     \
		size_t i = name##_slot_(s->keys, s->capacity, key);                       \
		if (s->keys[i] == key) {                                                  \
			*inserted_ret = false;                                            \
			return true;                                                      \
		}                                                                         \
		s->keys[i] = key;                                                         \
		s->count++;                                                               \
		*inserted_ret = true;                                                     \
		return true;                                                              \
	}

#define PCA_DEFINE_HASH_MAP(name, key_type, value_type, hash_fn, empty_key)               \
	struct name {                                                                     \
		key_type *keys;                                                           \
		value_type *values;                                                       \
		size_t count, capacity; /* capacity: 0 or a power of two */              \
	};                                                                                \
	__attribute__((unused)) static inline void name##_init(struct name *m)            \
	{                                                                                 \
		m->keys = NULL;                                                           \
		m->values = NULL;                                                         \
		m->count = m->capacity = 0;                                               \
	}                                                                                 \
	__attribute__((unused)) static inline void name##_deinit(struct name *m)          \
	{                                                                                 \
		free(m->keys);                                                            \
		free(m->values);                                                          \
		name##_init(m);                                                           \
	}                                                                                 \
	static inline size_t name##_slot_(key_type *keys, size_t capacity, key_type key)  \
	{                                                                                 \
		size_t mask = capacity - 1;                                               \
		size_t i = (size_t)(hash_fn(key)) & mask;                                 \
		while (keys[i] != (empty_key) && keys[i] != key)                          \
			i = (i + 1) & mask;                                               \
		return i;                                                                 \
	}                                                                                 \
	__attribute__((unused)) static inline bool name##_reserve(struct name *m,         \
								  size_t n)               \
	{                                                                                 \
		size_t cap;                                                               \
		if (!pca_hash_capacity_for(n, &cap))                                      \
			return false;                                                     \
		if (cap <= m->capacity)                                                   \
			return true;                                                      \
		if (cap > SIZE_MAX / sizeof(key_type) ||                                  \
		    cap > SIZE_MAX / sizeof(value_type))                                  \
			return false;                                                     \
		key_type *keys = malloc(cap * sizeof(key_type));                          \
		value_type *values = malloc(cap * sizeof(value_type));                    \
		if (!keys || !values) {                                                   \
			free(keys);                                                       \
			free(values);                                                     \
			return false;                                                     \
		}                                                                         \
		for (size_t i = 0; i < cap; i++)                                          \
			keys[i] = (empty_key);                                            \
		for (size_t i = 0; i < m->capacity; i++) {                                \
			if (m->keys[i] == (empty_key))                                    \
				continue;                                                 \
			size_t j = name##_slot_(keys, cap, m->keys[i]);                   \
			keys[j] = m->keys[i];                                             \
			values[j] = m->values[i];                                         \
		}                                                                         \
		free(m->keys);                                                            \
		free(m->values);                                                          \
		m->keys = keys;                                                           \
		m->values = values;                                                       \
		m->capacity = cap;                                                        \
		return true;                                                              \
	}                                                                                 \
	/* The value of key, or NULL. Valid until the next insert. */                    \
	__attribute__((unused)) static inline value_type *name##_search(                  \
		const struct name *m, key_type key)                                       \
	{                                                                                 \
		if (!m->capacity)                                                         \
			return NULL;                                                      \
		size_t i = name##_slot_(m->keys, m->capacity, key);                       \
		return m->keys[i] == key ? &m->values[i] : NULL;                          \
	}                                                                                 \
	/* Set key (not empty_key) to value, replacing an old value. False on ENOMEM. \
	 */                                                                              \
	__attribute__((unused)) static inline bool name##_insert(struct name *m,          \
								 key_type key,            \
								 value_type value)        \
	{                                                                                 \
		if ((m->count + 1) * 2 > m->capacity && !name##_reserve(m, m->count + 1)) \
			return false;                                                     \
		size_t i = name##_slot_(m->keys, m->capacity, key);                       \
		if (m->keys[i] != key) {                                                  \
			m->keys[i] = key;                                                 \
			m->count++;                                                       \
		}                                                                         \
		m->values[i] = value;                                                     \
		return true;                                                              \
	}

#endif
