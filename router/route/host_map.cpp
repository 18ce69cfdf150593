#include "router/route/host_map.hpp"

#include "router/route/slab.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <span>

namespace sy::route {

// ---- HostRoutes ----

Ref<const HostRoutes> HostRoutes::make(std::string_view host,
                                       const std::vector<std::pair<std::string_view, PoolPtr>>& routes) {
  size_t chars = host.size();
  for (const auto& [path, pool] : routes) chars += path.size();
  void* mem = slab::allocate(sizeof(HostRoutes) + routes.size() * sizeof(Entry) + chars);
  auto* r = new (mem) HostRoutes(static_cast<uint32_t>(routes.size()), static_cast<uint32_t>(host.size()));
  char* out = const_cast<char*>(r->chars());
  out = std::copy(host.begin(), host.end(), out);
  for (size_t i = 0; i < routes.size(); ++i) {
    const auto& [path, pool] = routes[i];
    new (&r->entries()[i]) Entry{pool.get(), static_cast<uint32_t>(path.size()), !pool->empty()};
    retain(pool.get());
    out = std::copy(path.begin(), path.end(), out);
  }
  return Ref<const HostRoutes>::adopt(r);
}

size_t HostRoutes::bytes() const {
  size_t chars = host_len_;
  for (const Entry& e : std::span(entries(), count_)) chars += e.path_len;
  return sizeof(HostRoutes) + count_ * sizeof(Entry) + chars;
}

void release(const HostRoutes* p) {
  if (!p->drop_ref()) return;
  for (size_t i = 0; i < p->count_; ++i) release(p->entries()[i].pool);
  const size_t bytes = p->bytes();
  p->~HostRoutes();
  slab::deallocate(const_cast<HostRoutes*>(p), bytes);
}

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// True when `prefix` (lower-case, no trailing '/') covers `path` on whole segments.
bool segment_prefix(std::string_view path, std::string_view prefix) {
  if (path.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i)
    if (lower(path[i]) != prefix[i]) return false;
  return path.size() == prefix.size() || path[prefix.size()] == '/';
}

}  // namespace

std::string_view HostRoutes::path(size_t i) const {
  const char* p = chars() + host_len_;
  for (size_t j = 0; j < i; ++j) p += entries()[j].path_len;
  return {p, entries()[i].path_len};
}

const Pool* HostRoutes::route(std::string_view path) const {
  const char* p = chars() + host_len_;
  for (const Entry& e : std::span(entries(), count_)) {
    if (std::string_view(p, e.path_len) == path) return e.pool;
    p += e.path_len;
  }
  return nullptr;
}

const Pool* HostRoutes::match(std::string_view path) const {
  const Pool* empty_match = nullptr;
  const char* p = chars() + host_len_;
  for (const Entry& e : std::span(entries(), count_)) {
    std::string_view prefix(p, e.path_len);
    p += e.path_len;
    if (!segment_prefix(path, prefix)) continue;
    if (e.has_endpoints) return e.pool;
    if (!empty_match) empty_match = e.pool;
  }
  return empty_match;
}

// ---- HostMap ----
//
// A node has one slot per 5-bit chunk of the hash in use (bitmap), in chunk
// order. A slot holds a HostRoutes (tagged with the low bit) or a child node
// for the next 5 bits. Past the hash's 64 bits, a node is a collision list:
// `count` HostRoutes whose hosts hash alike, compared by name.
// Every slot owns one reference to what it points to.

struct alignas(8) HostMap::Node : RefCounted {
  uint32_t bitmap = 0;
  uint32_t count = 0;
  uintptr_t* slots() { return reinterpret_cast<uintptr_t*>(this + 1); }
  const uintptr_t* slots() const { return reinterpret_cast<const uintptr_t*>(this + 1); }
};

namespace {

using Node = HostMap::Node;
constexpr unsigned kBits = 5;
constexpr unsigned kHashBits = 64;

bool is_leaf(uintptr_t slot) { return slot & 1; }
const HostRoutes* leaf(uintptr_t slot) { return reinterpret_cast<const HostRoutes*>(slot & ~uintptr_t{1}); }
Node* child(uintptr_t slot) { return reinterpret_cast<Node*>(slot); }
uintptr_t leaf_slot(const HostRoutes* r) { return reinterpret_cast<uintptr_t>(r) | 1; }
uintptr_t node_slot(Node* n) { return reinterpret_cast<uintptr_t>(n); }

uint32_t chunk_bit(uint64_t hash, unsigned shift) { return uint32_t{1} << ((hash >> shift) & 31); }

// std::popcount is a library call on the baseline x86-64 target (no POPCNT).
unsigned popcount(uint32_t x) {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0f0f0f0fu;
  return (x * 0x01010101u) >> 24;
}
unsigned index_of(const Node* n, uint32_t bit) { return popcount(n->bitmap & (bit - 1)); }

size_t node_bytes(uint32_t count) { return sizeof(Node) + count * sizeof(uintptr_t); }

Node* allocate(uint32_t count) {
  void* mem = slab::allocate(node_bytes(count));
  Node* n = new (mem) Node;
  n->count = count;
  return n;
}

// Frees the node's memory; its slots' references have been moved elsewhere.
void free_node(Node* n) {
  const size_t bytes = node_bytes(n->count);
  n->~Node();
  slab::deallocate(n, bytes);
}

void retain_slot(uintptr_t s) {
  if (is_leaf(s))
    retain(leaf(s));
  else
    retain(child(s));
}

void release_slot(uintptr_t s) {
  if (is_leaf(s))
    release(leaf(s));
  else
    release(child(s));
}

// Returns a node equal to `n` that the caller holds alone, given the
// caller's reference to `n`: `n` itself when nobody else holds it, else a copy.
Node* own(Node* n) {
  if (n->unique()) return n;
  Node* copy = allocate(n->count);
  copy->bitmap = n->bitmap;
  for (uint32_t i = 0; i < n->count; ++i) retain_slot(copy->slots()[i] = n->slots()[i]);
  release(n);
  return copy;
}

// `n` (held alone) with `slot` inserted at index i; n is consumed.
Node* with_slot(Node* n, unsigned i, uintptr_t slot) {
  Node* out = allocate(n->count + 1);
  out->bitmap = n->bitmap;
  std::memcpy(out->slots(), n->slots(), i * sizeof(uintptr_t));
  out->slots()[i] = slot;
  std::memcpy(out->slots() + i + 1, n->slots() + i, (n->count - i) * sizeof(uintptr_t));
  free_node(n);
  return out;
}

// `n` (held alone) without the slot at index i (whose reference the caller took); n is consumed.
Node* without_slot(Node* n, unsigned i) {
  Node* out = allocate(n->count - 1);
  out->bitmap = n->bitmap;
  std::memcpy(out->slots(), n->slots(), i * sizeof(uintptr_t));
  std::memcpy(out->slots() + i, n->slots() + i + 1, (n->count - i - 1) * sizeof(uintptr_t));
  free_node(n);
  return out;
}

// A node holding two leaves whose hashes agree below `shift`.
Node* pair_node(unsigned shift, uintptr_t a, uint64_t ha, uintptr_t b, uint64_t hb) {
  if (shift >= kHashBits) {  // same 64-bit hash: a collision list
    Node* n = allocate(2);
    n->slots()[0] = a;
    n->slots()[1] = b;
    return n;
  }
  uint32_t bit_a = chunk_bit(ha, shift), bit_b = chunk_bit(hb, shift);
  if (bit_a == bit_b) {
    Node* n = allocate(1);
    n->bitmap = bit_a;
    n->slots()[0] = node_slot(pair_node(shift + kBits, a, ha, b, hb));
    return n;
  }
  Node* n = allocate(2);
  n->bitmap = bit_a | bit_b;
  n->slots()[bit_a < bit_b ? 0 : 1] = a;
  n->slots()[bit_a < bit_b ? 1 : 0] = b;
  return n;
}

// Removes `host` below `n` (held alone, and known to hold the host). Returns
// what replaces n in its parent: n or a smaller node, 0 when nothing is left,
// or the one remaining leaf, pulled up so the trie stays as shallow as its contents.
uintptr_t erase_below(Node* n, unsigned shift, std::string_view host, uint64_t hash) {
  unsigned i = 0;
  if (shift >= kHashBits) {  // collision list
    while (leaf(n->slots()[i])->host() != host) ++i;
  } else {
    uint32_t bit = chunk_bit(hash, shift);
    i = index_of(n, bit);
    uintptr_t& s = n->slots()[i];
    if (!is_leaf(s)) {
      s = erase_below(own(child(s)), shift + kBits, host, hash);
      if (s != 0 && !(n->count == 1 && is_leaf(s))) return node_slot(n);
      if (s != 0) {  // our only slot became a leaf: pull it up too
        uintptr_t only = s;
        free_node(n);
        return only;
      }
    } else {
      release_slot(s);
    }
    n->bitmap &= ~bit;
  }
  if (shift >= kHashBits) release_slot(n->slots()[i]);
  if (n->count == 1) {
    free_node(n);
    return 0;
  }
  n = without_slot(n, i);
  if (n->count == 1 && is_leaf(n->slots()[0])) {
    uintptr_t only = n->slots()[0];
    free_node(n);
    return only;
  }
  return node_slot(n);
}

void for_each_below(const Node* n, const std::function<void(const HostRoutes&)>& fn) {
  for (uint32_t i = 0; i < n->count; ++i) {
    uintptr_t s = n->slots()[i];
    if (is_leaf(s))
      fn(*leaf(s));
    else
      for_each_below(child(s), fn);
  }
}

}  // namespace

void release(const Node* n) {
  if (!n->drop_ref()) return;
  for (uint32_t i = 0; i < n->count; ++i) release_slot(n->slots()[i]);
  free_node(const_cast<Node*>(n));
}

HostMap::HostMap(HashFn hash) : hash_(hash) {}
HostMap::HostMap(const HostMap&) = default;
HostMap& HostMap::operator=(const HostMap&) = default;
HostMap::~HostMap() = default;

// Eight bytes at a time, then a full avalanche (the trie takes 5 bits at a
// time from the low end). Not keyed: only registered hosts are inserted, so
// request hosts cannot build collision chains.
uint64_t HostMap::default_hash(std::string_view host) {
  const char* p = host.data();
  size_t n = host.size();
  uint64_t h = 0x9e3779b97f4a7c15ull ^ n;
  auto mix = [&h](uint64_t v) {
    h = (h ^ v) * 0xbf58476d1ce4e5b9ull;
    h ^= h >> 31;
  };
  uint64_t v;
  for (; n > 8; p += 8, n -= 8) {
    std::memcpy(&v, p, 8);
    mix(v);
  }
  if (host.size() >= 8) {  // the last 8 bytes, overlapping what came before
    std::memcpy(&v, host.data() + host.size() - 8, 8);
  } else {
    v = 0;
    for (size_t i = 0; i < n; ++i) v |= uint64_t{static_cast<unsigned char>(p[i])} << (8 * i);
  }
  mix(v);
  h ^= h >> 29;
  h *= 0x94d049bb133111ebull;
  return h ^ (h >> 32);
}

const HostRoutes* HostMap::find(std::string_view host) const {
  const uint64_t hash = hash_(host);
  const Node* n = root_.get();
  for (unsigned shift = 0; n; shift += kBits) {
    if (shift >= kHashBits) {
      for (uint32_t i = 0; i < n->count; ++i)
        if (leaf(n->slots()[i])->host() == host) return leaf(n->slots()[i]);
      return nullptr;
    }
    uint32_t bit = chunk_bit(hash, shift);
    if (!(n->bitmap & bit)) return nullptr;
    uintptr_t s = n->slots()[index_of(n, bit)];
    if (is_leaf(s)) return leaf(s)->host() == host ? leaf(s) : nullptr;
    n = child(s);
  }
  return nullptr;
}

void HostMap::for_each(const std::function<void(const HostRoutes&)>& fn) const {
  if (root_) for_each_below(root_.get(), fn);
}

void HostMap::set(Ref<const HostRoutes> routes) {
  const std::string_view host = routes->host();
  const uint64_t hash = hash_(host);
  const uintptr_t slot = leaf_slot(routes.detach());
  uintptr_t root = node_slot(root_ ? root_.detach() : allocate(0));
  uintptr_t* where = &root;  // the slot (held alone) that points at the node being changed
  for (unsigned shift = 0;; shift += kBits) {
    Node* n = own(child(*where));
    *where = node_slot(n);
    if (shift >= kHashBits) {  // collision list
      uint32_t i = 0;
      while (i < n->count && leaf(n->slots()[i])->host() != host) ++i;
      if (i < n->count) {
        release_slot(n->slots()[i]);
        n->slots()[i] = slot;
      } else {
        *where = node_slot(with_slot(n, i, slot));
        ++size_;
      }
      break;
    }
    uint32_t bit = chunk_bit(hash, shift);
    unsigned i = index_of(n, bit);
    if (!(n->bitmap & bit)) {
      n->bitmap |= bit;
      *where = node_slot(with_slot(n, i, slot));
      ++size_;
      break;
    }
    uintptr_t& s = n->slots()[i];
    if (is_leaf(s)) {
      if (leaf(s)->host() == host) {
        release_slot(s);
        s = slot;
      } else {
        s = node_slot(pair_node(shift + kBits, s, hash_(leaf(s)->host()), slot, hash));
        ++size_;
      }
      break;
    }
    where = &s;
  }
  root_ = Ref<Node>::adopt(child(root));
}

void HostMap::erase(std::string_view host) {
  if (!find(host)) return;  // nothing to copy
  uintptr_t root = erase_below(own(root_.detach()), 0, host, hash_(host));
  --size_;
  if (root != 0 && is_leaf(root)) {  // the root stays a node
    Node* n = allocate(1);
    n->bitmap = chunk_bit(hash_(leaf(root)->host()), 0);
    n->slots()[0] = root;
    root = node_slot(n);
  }
  if (root != 0) root_ = Ref<Node>::adopt(child(root));
}

}  // namespace sy::route
