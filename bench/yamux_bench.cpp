// The tunnel's protocol cores on the data path, against memcpy: how much a
// byte costs through yamux (write → output queue → feed → stream buffer →
// peek/consume) and through WebSocket framing (unmasking in place, masking
// while copying). A payload byte is copied once into the output queue (none
// with prepare_write) and once into the receiving stream's buffer; these
// numbers say whether that matters next to the socket calls around it.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "tunnel/ws/decoder.hpp"
#include "tunnel/ws/encoder.hpp"
#include "tunnel/yamux/session.hpp"

namespace {

using namespace sy;
constexpr size_t kChunk = 64 * 1024;

void BM_Memcpy(benchmark::State& state) {
  std::vector<uint8_t> a(kChunk, 1), b(kChunk);
  for (auto _ : state) {
    std::memcpy(b.data(), a.data(), kChunk);
    benchmark::DoNotOptimize(b.data());
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
}
BENCHMARK(BM_Memcpy);

// One stream, 64 KiB per round, the receiver relaying from its buffer at
// once. The sender's bytes come from a simulated recv() (a memcpy from
// `socket`): into an application buffer and then write(), or straight into
// the output queue with prepare_write()/commit_write().
template <bool kZeroCopy>
void BM_YamuxRelay(benchmark::State& state) {
  const auto t = yamux::TimePoint{};
  yamux::Session client(yamux::Role::client, {}, t), server(yamux::Role::server, {}, t);
  const uint32_t id = client.open().id;
  std::vector<uint8_t> socket(kChunk, 7), app(kChunk);
  size_t sink = 0;
  for (auto _ : state) {
    if constexpr (kZeroCopy) {
      yamux::Status st;
      auto room = client.prepare_write(id, kChunk, &st);
      std::memcpy(room.data(), socket.data(), room.size());
      client.commit_write(id, room.size());
    } else {
      std::memcpy(app.data(), socket.data(), kChunk);
      client.write(id, app);
    }
    auto out = client.output();
    server.feed(out, t);
    client.consumed(out.size());
    auto have = server.peek(id);
    sink += have.size();
    server.consume(id, have.size());
    client.feed(server.output(), t);
    server.consumed(server.output_size());
    yamux::Event e;
    while (client.poll(e) || server.poll(e)) {
    }
  }
  benchmark::DoNotOptimize(sink);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
}
BENCHMARK(BM_YamuxRelay<false>)->Name("BM_YamuxRelay/recv_then_write");
BENCHMARK(BM_YamuxRelay<true>)->Name("BM_YamuxRelay/recv_into_queue");

void BM_WsDecodeMasked(benchmark::State& state) {
  ws::FrameEncoder enc(ws::Role::client);
  std::vector<uint8_t> payload(kChunk, 3), frame(kChunk + ws::kMaxHeaderSize), work;
  frame.resize(enc.binary_frame(frame.data(), payload));
  ws::FrameDecoder dec(ws::Role::server);
  for (auto _ : state) {
    work = frame;  // decoding unmasks in place
    std::span<uint8_t> in(work);
    while (!in.empty()) {
      size_t used = 0;
      benchmark::DoNotOptimize(dec.decode(in, used));
      in = in.subspan(used);
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
}
BENCHMARK(BM_WsDecodeMasked);

void BM_WsEncodeMasked(benchmark::State& state) {
  ws::FrameEncoder enc(ws::Role::client);
  std::vector<uint8_t> payload(kChunk, 3), frame(kChunk + ws::kMaxHeaderSize);
  for (auto _ : state) benchmark::DoNotOptimize(enc.binary_frame(frame.data(), payload));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kChunk));
}
BENCHMARK(BM_WsEncodeMasked);

}  // namespace

BENCHMARK_MAIN();
