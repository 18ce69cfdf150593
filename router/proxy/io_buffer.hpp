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

class BufferPool {
 public:
  static constexpr size_t kBlockSize = 80 * 1024;  // a 64 KiB read plus leftovers
  explicit BufferPool(size_t max_free = 1024) : max_free_(max_free) {}
  ~BufferPool();
  BufferPool(const BufferPool&) = delete;
  BufferPool& operator=(const BufferPool&) = delete;

  char* acquire();
  void release(char* block);

 private:
  std::vector<char*> free_;
  size_t max_free_;
};

class IoBuffer {
 public:
  IoBuffer(BufferPool& pool, size_t max_size) : pool_(pool), max_size_(max_size) {}
  ~IoBuffer() { release(); }
  IoBuffer(const IoBuffer&) = delete;
  IoBuffer& operator=(const IoBuffer&) = delete;

  boost::asio::const_buffer data() const { return {storage_ + begin_, end_ - begin_}; }
  size_t size() const { return end_ - begin_; }
  size_t max_size() const { return max_size_; }
  bool holds_storage() const { return storage_ != nullptr; }

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
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace sy::proxy
