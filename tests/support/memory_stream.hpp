#pragma once
// In-memory ByteStreams for unit tests: two connected ends on one executor;
// what one end writes, the other reads. No sockets, no network, no timers.
//
// Writes complete at once (the buffer is unbounded). A read waits for bytes,
// for EOF (the peer's shutdown_send() or close()), or for its own close()
// (operation_aborted). reset() on one end makes the other's reads and writes
// fail with connection_reset, as a TCP RST would. Completions are posted,
// never run inside the initiating call. Single-threaded (the executor's).
#include <memory>
#include <string>
#include <utility>

#include "router/upstream/byte_stream.hpp"

namespace sy::test {

class MemoryStream final : public upstream::ByteStream {
 public:
  static std::pair<std::unique_ptr<MemoryStream>, std::unique_ptr<MemoryStream>> pair(executor_type ex);
  ~MemoryStream() override;

  executor_type get_executor() override;
  void close() override;
  void shutdown_send() override;
  bool idle_usable() override;
  void reset();  // the peer sees connection_reset

  bool closed() const;          // this end was closed
  bool peer_closed() const;     // the other end was closed (or reset)
  size_t unread() const;        // bytes waiting for this end

 protected:
  void do_read_some(boost::asio::mutable_buffer buffer, upstream::IoHandler handler) override;
  void do_write_some(upstream::BufferList buffers, upstream::IoHandler handler) override;

 private:
  struct Shared;
  MemoryStream(std::shared_ptr<Shared> shared, int side) : shared_(std::move(shared)), side_(side) {}
  void wake_reader(int side);
  std::shared_ptr<Shared> shared_;
  int side_;
};

}  // namespace sy::test
