#include "router/io/ring.hpp"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace sy::io {
namespace {

// Submission queue entries. A pass rarely queues more than two per
// connection it served; when it does, sqe() submits early.
constexpr unsigned kEntries = 1024;

bool supports_all(std::string* why) {
  ::io_uring_probe* probe = ::io_uring_get_probe();
  if (!probe) {
    *why = "io_uring: the kernel gave no probe";
    return false;
  }
  struct Op {
    int code;
    const char* name;
  };
  constexpr Op kOps[] = {{IORING_OP_RECV, "recv"},           {IORING_OP_SENDMSG, "sendmsg"},
                         {IORING_OP_POLL_ADD, "poll_add"},   {IORING_OP_CONNECT, "connect"},
                         {IORING_OP_ASYNC_CANCEL, "cancel"}, {IORING_OP_CLOSE, "close"},
                         {IORING_OP_ACCEPT, "accept"}};
  bool ok = true;
  for (const Op& op : kOps) {
    if (!::io_uring_opcode_supported(probe, op.code)) {
      *why = std::string("io_uring: no ") + op.name + " operation in this kernel";
      ok = false;
      break;
    }
  }
  ::io_uring_free_probe(probe);
  return ok;
}

}  // namespace

std::unique_ptr<Ring> Ring::create(std::string* why) {
  std::unique_ptr<Ring> ring(new Ring);
  ::io_uring_params params{};
  // SUBMIT_ALL: keep submitting past a failed SQE (its CQE says so).
  // COOP_TASKRUN: a socket's readiness does not interrupt the worker to
  // finish the operation; that runs when the worker next enters the kernel
  // (TASKRUN_FLAG tells liburing when to), which on this VM halved the CPU
  // per new connection (32 -> 17 us) and cut keep-alive's by 12% (5.19+;
  // older kernels get the ring without). Not SINGLE_ISSUER/DEFER_TASKRUN:
  // the ring is made on the main thread and waited on through Asio's epoll,
  // which deferred completions would not wake.
  params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
  int rc = ::io_uring_queue_init_params(kEntries, &ring->ring_, &params);
  if (rc == -EINVAL) {
    params = ::io_uring_params{};
    params.flags = IORING_SETUP_SUBMIT_ALL;
    rc = ::io_uring_queue_init_params(kEntries, &ring->ring_, &params);
  }
  if (rc < 0) {
    *why = std::string("io_uring_setup: ") + std::strerror(-rc);
    return nullptr;
  }
  ring->ready_ = true;
  if (!(params.features & IORING_FEAT_SUBMIT_STABLE) || !(params.features & IORING_FEAT_NODROP)) {
    *why = "io_uring: the kernel lacks stable submission or no-drop completions (5.5+ needed)";
    return nullptr;
  }
  if (!supports_all(why)) return nullptr;
  return ring;
}

Ring::~Ring() {
  if (ready_) ::io_uring_queue_exit(&ring_);
}

::io_uring_sqe* Ring::sqe() {
  ::io_uring_sqe* sqe = ::io_uring_get_sqe(&ring_);
  if (!sqe) {
    flush();
    sqe = ::io_uring_get_sqe(&ring_);
    if (!sqe) throw std::runtime_error("io_uring: no submission entry after a submit");
  }
  return sqe;
}

void Ring::queue_close(int fd, uint64_t user_data) {
  ::io_uring_sqe* s = sqe();
  ::io_uring_prep_close(s, fd);
  ::io_uring_sqe_set_data64(s, user_data);
}

void Ring::flush() {
  if (!queued()) return;
  int rc;
  do {
    rc = ::io_uring_submit(&ring_);
  } while (rc == -EINTR);
  // -EBUSY/-EAGAIN: the completion queue is full (NODROP keeps overflow);
  // the SQEs stay queued and go with the next flush, after the caller took
  // completions. Anything else is a broken ring.
  if (rc < 0 && rc != -EBUSY && rc != -EAGAIN) throw std::system_error(-rc, std::generic_category(), "io_uring_submit");
}

unsigned Ring::take(Completion* out, unsigned max) {
  ::io_uring_cqe* cqes[64];
  if (max > 64) max = 64;
  const unsigned n = ::io_uring_peek_batch_cqe(&ring_, cqes, max);
  for (unsigned i = 0; i < n; ++i) out[i] = Completion{cqes[i]->user_data, cqes[i]->res};
  ::io_uring_cq_advance(&ring_, n);
  return n;
}

}  // namespace sy::io
