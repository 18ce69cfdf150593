#pragma once
// Memory for the trie nodes and host entries (host_map.cpp), the objects a
// lookup reads. Blocks come in 16-byte size classes carved from chunks of
// their own, so these objects sit together instead of among a million
// endpoints, pools and strings; past 4 MiB the chunks are 2 MiB and marked
// for transparent huge pages. A lookup in a big table then misses the cache
// and the TLB far less often. Freed blocks are reused by their size class and
// never returned to the system. Any thread may allocate and free.
#include <cstddef>

namespace sy::route::slab {

void* allocate(size_t bytes);
void deallocate(void* p, size_t bytes);  // `bytes` as allocated
size_t reserved_bytes();                 // chunk memory taken from the system so far

}  // namespace sy::route::slab
