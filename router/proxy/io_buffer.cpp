#include "router/proxy/io_buffer.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

namespace sy::proxy {

BufferPool::~BufferPool() {
  for (char* b : free_) delete[] b;
}

char* BufferPool::acquire() {
  if (free_.empty()) return new char[kBlockSize];
  char* b = free_.back();
  free_.pop_back();
  return b;
}

void BufferPool::release(char* block) {
  if (free_.size() >= max_free_) {
    delete[] block;
    return;
  }
  free_.push_back(block);
}

char* BufferPool::acquire_large(size_t bytes) {
  if (bytes > large_budget_ - std::min(large_budget_, large_in_use_)) return nullptr;
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  large_in_use_ += bytes;
  return static_cast<char*>(p);
}

void BufferPool::release_large(char* storage, size_t bytes) {
  ::munmap(storage, bytes);
  large_in_use_ -= bytes;
}

boost::asio::mutable_buffer IoBuffer::prepare(size_t n) {
  n = std::min(n, max_size_ - std::min(max_size_, size()));
  if (!storage_) {
    storage_ = pool_.acquire();
    capacity_ = BufferPool::kBlockSize;
  }
  if (end_ + n > capacity_) {
    size_t used = size();
    if (used + n <= capacity_) {  // compact: move the unread bytes to the front
      std::memmove(storage_, storage_ + begin_, used);
    } else {  // grow (only a head larger than a block does this), within the pool's budget
      size_t cap = std::min(std::max(used + n, capacity_ * 2), max_size_);
      char* bigger = pool_.acquire_large(cap);
      if (!bigger) return {storage_ + end_, 0};
      std::memcpy(bigger, storage_ + begin_, used);
      release();
      storage_ = bigger;
      capacity_ = cap;
      large_ = true;
    }
    begin_ = 0;
    end_ = used;
  }
  return {storage_ + end_, n};
}

void IoBuffer::consume(size_t n) {
  begin_ += std::min(n, size());
  if (begin_ == end_) begin_ = end_ = 0;
}

void IoBuffer::release() {
  if (storage_) {
    if (large_)
      pool_.release_large(storage_, capacity_);
    else
      pool_.release(storage_);
  }
  large_ = false;
  storage_ = nullptr;
  capacity_ = begin_ = end_ = 0;
}

}  // namespace sy::proxy
