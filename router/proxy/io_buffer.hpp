#pragma once
// IoBuffer: a connection's read buffer whose storage is borrowed from the
// worker's BufferPool while it is needed and handed back when the buffer is
// empty, so an idle keep-alive connection holds no buffer memory (thousands
// of idle clients cost kilobytes each, not 64 KiB each).
//
// The interface is the subset of a Beast flat_buffer the proxy uses:
// data() / size() / prepare(n) / commit(n) / consume(n). prepare() may return
// fewer than n bytes when max_size() is near; never more.
//
// Threading: the owning worker only (the pool is per worker, unsynchronised).
#include <boost/asio/buffer.hpp>
#include <cstddef>
#include <memory>
#include <vector>

namespace sy::proxy {

// The worker's read-buffer blocks, plus the budget for the rare buffer that
// must grow past a block (a request head over 80 KiB): all of a worker's
// large buffers together stay under `large_budget` bytes, so a crowd of
// connections sending huge heads cannot take the process's memory, and they
// are mapped and unmapped directly, so the memory goes back to the kernel as
// soon as they are done.
class BufferPool {
 public:
  static constexpr size_t kBlockSize = 80 * 1024;  // a 64 KiB read plus leftovers
  static constexpr size_t kDefaultLargeBudget = 32 * 1024 * 1024;
  explicit BufferPool(size_t max_free = 256, size_t large_budget = kDefaultLargeBudget)
      : max_free_(max_free), large_budget_(large_budget) {}
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  char* acquire();
  void release(char* block);
  // nullptr when the budget has no room for `bytes` more (or mmap failed).
  char* acquire_large(size_t bytes);
  void release_large(char* storage, size_t bytes);
  size_t large_in_use() const { return large_in_use_; }

 private:
  std::vector<char*> free_;
  size_t max_free_;
  size_t large_budget_;
  size_t large_in_use_ = 0;
};

class IoBuffer {
 public:
  IoBuffer(BufferPool& pool, size_t max_size) : pool_(pool), max_size_(max_size) {}
  ~IoBuffer() { release(); }
  IoBuffer(const IoBuffer&) = delete;
  IoBuffer& operator=(const IoBuffer&) = delete;

  boost::asio::const_buffer data() const { return {storage_ + begin_, end_ - begin_}; }
  char* mutable_data() { return storage_ + begin_; }
  size_t size() const { return end_ - begin_; }
  size_t max_size() const { return max_size_; }
  bool holds_storage() const { return storage_ != nullptr; }

  // Room for up to n more bytes; empty when max_size() is reached or the
  // pool's large-buffer budget has no room for the growth.
  boost::asio::mutable_buffer prepare(size_t n);
  void commit(size_t n) { end_ += n; }
  void consume(size_t n);
  void clear() { begin_ = end_ = 0; }
  // Returns the storage to the pool (or the heap) when the buffer is empty.
  void release_if_empty() {
    if (size() == 0) release();
  }

 private:
  void release();

  BufferPool& pool_;
  size_t max_size_;
  char* storage_ = nullptr;
  size_t capacity_ = 0;
  bool large_ = false;  // storage_ came from acquire_large
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace sy::proxy
