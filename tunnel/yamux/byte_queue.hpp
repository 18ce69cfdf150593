#pragma once
// ByteQueue: a contiguous FIFO of bytes (a session's output, a stream's
// receive buffer). Appends go at the back, reads take from the front, and
// the unread bytes are always one span, so a writer can hand them to one
// write() and a reader can relay them without copying them out first.
// The front gap is closed (a memmove of the unread bytes) only when an
// append needs the room. Storage is allocated on first use, never
// zero-filled, grows by doubling up to `limit`, and is freed by release().
//
// pin() / unpin(): a write that reads front() is in flight across a
// suspension (the node's writer sends the output queue without copying it).
// Meanwhile an append never moves those bytes: when it needs room it copies
// the queue to new storage and keeps the old one, untouched, until unpin().
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace sy::yamux {

class ByteQueue {
 public:
  size_t size() const { return end_ - begin_; }
  bool empty() const { return end_ == begin_; }
  size_t capacity() const { return cap_; }
  std::span<uint8_t> front() { return {data_.get() + begin_, end_ - begin_}; }
  std::span<const uint8_t> front() const { return {data_.get() + begin_, end_ - begin_}; }

  // Room for `n` more bytes at the back, growing to at most max(limit, size + n);
  // returns where they go. commit(n) makes them part of the queue.
  uint8_t* prepare(size_t n, size_t limit = SIZE_MAX);
  void commit(size_t n) { end_ += n; }
  uint8_t* tail() { return data_.get() + end_; }  // where prepare()'s room starts
  void append(const uint8_t* p, size_t n) {
    if (n == 0) return;
    std::memcpy(prepare(n), p, n);
    commit(n);
  }
  void append(const uint8_t* p, size_t n, size_t limit) {
    if (n == 0) return;
    std::memcpy(prepare(n, limit), p, n);
    commit(n);
  }
  void consume(size_t n);
  void pin() { pinned_ = true; }
  void unpin() {
    pinned_ = false;
    retired_.reset();
  }
  // Frees the storage if the queue is empty.
  void release() {
    if (!empty() || pinned_) return;
    data_.reset();
    cap_ = begin_ = end_ = 0;
  }

 private:
  std::unique_ptr<uint8_t[]> data_;
  std::unique_ptr<uint8_t[]> retired_;  // what front() was when pinned, until unpin()
  bool pinned_ = false;
  size_t cap_ = 0;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace sy::yamux
