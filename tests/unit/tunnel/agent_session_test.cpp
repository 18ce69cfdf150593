// TunnelSession's node side over a socketpair, with the test as the node:
// our ws codec (server role: it rejects unmasked frames, so every frame the
// agent sends is checked to be masked) and a yamux client session. No
// network, no sleeping: the io_context runs in slices until a condition holds.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <functional>
#include <memory>
#include <vector>

#include "router/io/poller.hpp"
#include "tunnel/agent/session.hpp"
#include "tunnel/ws/decoder.hpp"
#include "tunnel/ws/encoder.hpp"
#include "tunnel/yamux/session.hpp"

namespace sy::agent {
namespace {

namespace asio = boost::asio;

class Recorder : public SessionObserver {
 public:
  void on_go_away(TunnelSession&) override { ++go_aways; }
  void on_close_code(TunnelSession&, uint16_t code) override { codes.push_back(code); }
  int go_aways = 0;
  std::vector<uint16_t> codes;
};

class AgentSessionTest : public ::testing::Test {
 protected:
  AgentSessionTest() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds), 0);
    node_fd_ = fds[1];
    poller_.start();
    config_ = default_session_config();
    auto connection = std::make_shared<NodeConnection>(poller_, fds[0]);
    session_ = std::make_unique<TunnelSession>(poller_, config_, connection, std::vector<uint8_t>{}, observer_, 0,
                                               "h.tunnel.test");
    asio::co_spawn(io_, run_session(), asio::detached);
  }
  ~AgentSessionTest() override {
    if (!finished_) {
      session_->shutdown();
      ::close(node_fd_);
      node_fd_ = -1;
      run_until([&] { return finished_; });
    }
    session_.reset();
    poller_.close();
    if (node_fd_ >= 0) ::close(node_fd_);
  }

  asio::awaitable<void> run_session() {
    co_await session_->run();
    finished_ = true;
  }

  // Runs the io_context and reads what the agent sent until `done` or 5 s.
  void run_until(const std::function<bool()>& done) {
    for (int i = 0; i < 500 && !done(); ++i) {
      io_.run_for(std::chrono::milliseconds(10));
      pump_input();
    }
    EXPECT_TRUE(done()) << "condition never held";
  }

  void pump_input() {
    uint8_t buf[65536];
    for (ssize_t n; node_fd_ >= 0 && (n = ::recv(node_fd_, buf, sizeof buf, 0)) > 0;) {
      size_t pos = 0;
      while (pos < static_cast<size_t>(n)) {
        size_t used = 0;
        const ws::Event e = decoder_.decode({buf + pos, static_cast<size_t>(n) - pos}, used);
        pos += used;
        if (e.kind == ws::EventKind::data) {
          data_bytes_ += e.payload.size();
          if (feed_yamux_) yamux_.feed(e.payload, yamux::Clock::now());
        }
        if (e.kind == ws::EventKind::pong) pongs_.emplace_back(e.payload.begin(), e.payload.end());
        if (e.kind == ws::EventKind::close) close_codes_.push_back(e.code);
        if (e.kind == ws::EventKind::error) decode_errors_.push_back(e.code);
      }
    }
  }

  void send_raw(const uint8_t* p, size_t n) { ASSERT_EQ(::send(node_fd_, p, n, MSG_NOSIGNAL), static_cast<ssize_t>(n)); }
  // The yamux output as one unmasked (server) binary frame.
  void flush_yamux() {
    const auto out = yamux_.output();
    if (out.empty()) return;
    std::vector<uint8_t> frame(out.size() + ws::kMaxHeaderSize);
    const size_t n = encoder_.binary_frame(frame.data(), out);
    yamux_.consumed(out.size());
    send_raw(frame.data(), n);
  }

  asio::io_context io_;
  io::Poller poller_{io_};
  SessionConfig config_;
  Recorder observer_;
  std::unique_ptr<TunnelSession> session_;
  bool finished_ = false;
  int node_fd_ = -1;
  ws::FrameDecoder decoder_{ws::Role::server};
  ws::FrameEncoder encoder_{ws::Role::server};
  yamux::Session yamux_{yamux::Role::client, yamux::Config{}, yamux::Clock::now()};
  std::vector<std::vector<uint8_t>> pongs_;
  std::vector<uint16_t> close_codes_;
  std::vector<uint16_t> decode_errors_;
  size_t data_bytes_ = 0;
  bool feed_yamux_ = true;
};

TEST_F(AgentSessionTest, AnswersWebSocketPingsWithMaskedPongs) {
  uint8_t frame[ws::kMaxControlFrameSize];
  const uint8_t payload[] = {'h', 'i', 7};
  send_raw(frame, encoder_.ping(frame, payload));
  run_until([&] { return !pongs_.empty(); });
  ASSERT_EQ(pongs_.size(), 1u);
  EXPECT_EQ(pongs_[0], std::vector<uint8_t>(payload, payload + 3));
  EXPECT_TRUE(decode_errors_.empty()) << "an unmasked frame from the agent would be error 1002";
}

TEST_F(AgentSessionTest, AnswersYamuxPingsThroughMaskedBinaryFrames) {
  yamux_.ping(yamux::Clock::now());
  flush_yamux();
  run_until([&] { return yamux_.rtt().count() > 0; });
  EXPECT_TRUE(decode_errors_.empty());
}

TEST_F(AgentSessionTest, ReportsAYamuxGoAway) {
  yamux_.go_away();
  flush_yamux();
  run_until([&] { return observer_.go_aways == 1; });
  EXPECT_FALSE(finished_) << "the session keeps running until drained and replaced";
  EXPECT_TRUE(session_->going_away());
}

TEST_F(AgentSessionTest, CloseCode4409IsReportedAndEndsTheSession) {
  uint8_t frame[ws::kMaxControlFrameSize];
  send_raw(frame, encoder_.close(frame, 4409, "owned"));
  run_until([&] { return finished_; });
  EXPECT_EQ(observer_.codes, std::vector<uint16_t>{4409});
}

TEST_F(AgentSessionTest, ANormalCloseIsAnsweredWithAClose) {
  uint8_t frame[ws::kMaxControlFrameSize];
  send_raw(frame, encoder_.close(frame, ws::kCloseGoingAway, ""));
  run_until([&] { return finished_; });
  EXPECT_EQ(close_codes_, std::vector<uint16_t>{ws::kCloseNormal});
  EXPECT_EQ(observer_.codes, std::vector<uint16_t>{ws::kCloseGoingAway});
}

TEST_F(AgentSessionTest, ShutdownSendsGoAwayAndClose1001) {
  session_->shutdown();
  run_until([&] { return !close_codes_.empty(); });
  EXPECT_EQ(close_codes_, std::vector<uint16_t>{ws::kCloseGoingAway});
  EXPECT_TRUE(yamux_.going_away()) << "a yamux GoAway went before the close";
  uint8_t frame[ws::kMaxControlFrameSize];
  send_raw(frame, encoder_.close(frame, ws::kCloseGoingAway, ""));
  run_until([&] { return finished_; });
}

TEST_F(AgentSessionTest, NodeEofEndsTheSession) {
  ::shutdown(node_fd_, SHUT_WR);
  run_until([&] { return finished_; });
  EXPECT_NE(session_->end_reason().find("closed the connection"), std::string::npos) << session_->end_reason();
}

// A node that pings without reading our answers: the answers pile up in the
// agent's output queue until feed() stops at its bound; then the agent stops
// reading the node, so the node's sends stall. Once the node reads again,
// every ping is answered.
TEST_F(AgentSessionTest, InputPausesWhileTheOutputQueueIsFullAndNothingIsLost) {
  feed_yamux_ = false;  // count the agent's output: 12-byte ping ACKs
  std::vector<uint8_t> pings;
  for (uint32_t i = 0; i < 4096; ++i) {
    uint8_t h[yamux::kHeaderSize];
    yamux::encode_header(yamux::Header{yamux::kVersion, yamux::Type::ping, yamux::kFlagSyn, 0, i}, h);
    pings.insert(pings.end(), h, h + sizeof h);
  }
  std::vector<uint8_t> frame(pings.size() + ws::kMaxHeaderSize);
  const size_t frame_size = encoder_.binary_frame(frame.data(), pings);
  size_t sent_frames = 0, offset = 0, stalled_rounds = 0;
  auto push = [&] {
    const ssize_t n = ::send(node_fd_, frame.data() + offset, frame_size - offset, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) return false;
    offset += static_cast<size_t>(n);
    if (offset == frame_size) offset = 0, ++sent_frames;
    return true;
  };
  // Push without reading until the agent has stopped taking input.
  while (stalled_rounds < 20 && sent_frames < 1000) {
    if (push()) {
      stalled_rounds = 0;
    } else {
      ++stalled_rounds;
      io_.run_for(std::chrono::milliseconds(5));
    }
  }
  EXPECT_LT(sent_frames, 1000u) << "the agent kept reading while it could not write";
  EXPECT_GT(sent_frames * 4096 * yamux::kHeaderSize, yamux::Config{}.max_output) << "enough to fill the output queue";
  // Read again, and finish the frame that was cut.
  run_until([&] {
    if (offset != 0) push();
    return offset == 0;
  });
  const size_t pings_sent = sent_frames * 4096;
  run_until([&] { return data_bytes_ == pings_sent * yamux::kHeaderSize; });
  EXPECT_FALSE(finished_);
  EXPECT_TRUE(decode_errors_.empty());
}

TEST_F(AgentSessionTest, ATextFrameIsAProtocolError) {
  const uint8_t text[] = {0x81, 0x01, 'x'};  // FIN + text, 1 byte
  send_raw(text, sizeof text);
  run_until([&] { return finished_; });
  EXPECT_NE(session_->end_reason().find("WebSocket protocol error"), std::string::npos) << session_->end_reason();
}

}  // namespace
}  // namespace sy::agent
