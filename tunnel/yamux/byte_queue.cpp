#include "tunnel/yamux/byte_queue.hpp"

#include <algorithm>

namespace sy::yamux {

uint8_t* ByteQueue::prepare(size_t n, size_t limit) {
  if (cap_ - end_ >= n) return data_.get() + end_;
  const size_t live = size();
  if (cap_ - live >= n && !pinned_) {
    std::memmove(data_.get(), data_.get() + begin_, live);
  } else {
    const size_t need = live + n;
    size_t cap = cap_ - live >= n ? cap_ : std::max<size_t>(cap_ * 2, 256);
    cap = std::max(std::min(cap, limit), need);
    auto grown = std::unique_ptr<uint8_t[]>(new uint8_t[cap]);
    if (live) std::memcpy(grown.get(), data_.get() + begin_, live);
    if (pinned_ && !retired_) retired_ = std::move(data_);  // the in-flight write reads it
    data_ = std::move(grown);
    cap_ = cap;
  }
  begin_ = 0;
  end_ = live;
  return data_.get() + end_;
}

void ByteQueue::consume(size_t n) {
  begin_ += n;
  if (begin_ == end_) begin_ = end_ = 0;
}

}  // namespace sy::yamux
