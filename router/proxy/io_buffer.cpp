#include "router/proxy/io_buffer.hpp"

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
    } else {  // grow (only a head larger than a block does this), off the pool
      size_t cap = std::max(used + n, capacity_ * 2);
      char* bigger = new char[cap];
      std::memcpy(bigger, storage_ + begin_, used);
      release();
      storage_ = bigger;
      capacity_ = cap;
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
    if (capacity_ == BufferPool::kBlockSize)
      pool_.release(storage_);
    else
      delete[] storage_;
  }
  storage_ = nullptr;
  capacity_ = begin_ = end_ = 0;
}

}  // namespace sy::proxy
