#pragma once
// Ref<T>: an intrusive reference-counted pointer for the route table's
// immutable objects (pools, host entries, trie nodes). The count lives in the
// object, so a reference is one pointer and an object one allocation.
// T derives from RefCounted and provides, found by argument-dependent lookup,
//   void release(const T*);  // drop_ref(), and destroy the object on the last
// Counts are atomic: the last reference may be dropped on any thread.
#include <atomic>
#include <cstdint>
#include <utility>

namespace sy::route {

class RefCounted {
 public:
  RefCounted() = default;
  RefCounted(const RefCounted&) : refs_(1) {}  // a copy is a new object
  RefCounted& operator=(const RefCounted&) { return *this; }
  // True when the caller holds the only reference (so it may change the object in place).
  bool unique() const { return refs_.load(std::memory_order_acquire) == 1; }
  void add_ref() const { refs_.fetch_add(1, std::memory_order_relaxed); }
  // True when this dropped the last reference.
  bool drop_ref() const { return refs_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

 protected:
  ~RefCounted() = default;

 private:
  mutable std::atomic<uint32_t> refs_{1};  // a new object starts with its creator's reference
};

inline void retain(const RefCounted* p) { p->add_ref(); }

template <class T>
class Ref {
 public:
  Ref() = default;
  // Adopts the creator's reference of a new object: Ref<T>(new T(...)).
  static Ref adopt(T* p) {
    Ref r;
    r.p_ = p;
    return r;
  }
  // Takes one more reference to an object some other Ref holds.
  static Ref share(T* p) {
    if (p) retain(p);
    return adopt(p);
  }
  Ref(const Ref& o) : p_(o.p_) {
    if (p_) retain(p_);
  }
  Ref(Ref&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  template <class U>
  Ref(Ref<U>&& o) noexcept : p_(o.detach()) {}
  Ref& operator=(Ref o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  ~Ref() {
    if (p_) release(p_);
  }

  T* get() const { return p_; }
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }
  explicit operator bool() const { return p_ != nullptr; }
  // Gives up ownership without dropping the reference.
  T* detach() { return std::exchange(p_, nullptr); }

 private:
  T* p_ = nullptr;
};

}  // namespace sy::route
