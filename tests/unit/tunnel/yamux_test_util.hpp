#pragma once
// Helpers for the yamux tests: hand-built frames, the frames a session
// wrote, and a pump that wires two sessions back to back in memory.
#include <algorithm>
#include <cstdint>
#include <vector>

#include "tunnel/yamux/session.hpp"

namespace sy::yamux::testing {

using Bytes = std::vector<uint8_t>;
using namespace std::chrono_literals;

inline const TimePoint T0{std::chrono::seconds(1000)};

inline Bytes frame(Type type, uint16_t flags, uint32_t id, uint32_t length, const Bytes& payload = {}) {
  Bytes out(kHeaderSize);
  encode_header(Header{kVersion, type, flags, id, length}, out.data());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

inline Bytes data(uint32_t id, const Bytes& payload, uint16_t flags = 0) {
  return frame(Type::data, flags, id, static_cast<uint32_t>(payload.size()), payload);
}

inline Bytes cat(std::initializer_list<Bytes> parts) {
  Bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

inline Bytes pattern(size_t n, uint32_t salt = 0) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<uint8_t>((i * 131 + salt * 17 + (i >> 9)) & 0xff);
  return b;
}

// A frame the session wrote: its header and, for data, its payload.
struct Sent {
  Header h;
  Bytes payload;
};

// Takes everything in the session's output queue apart into frames.
inline std::vector<Sent> sent(Session& s) {
  std::vector<Sent> frames;
  auto out = s.output();
  size_t pos = 0;
  while (pos + kHeaderSize <= out.size()) {
    Sent f{decode_header(out.data() + pos), {}};
    pos += kHeaderSize;
    if (f.h.type == Type::data) {
      f.payload.assign(out.begin() + pos, out.begin() + pos + f.h.length);
      pos += f.h.length;
    }
    frames.push_back(std::move(f));
  }
  s.consumed(pos);
  return frames;
}

inline std::vector<Event> events(Session& s) {
  std::vector<Event> out;
  Event e;
  while (s.poll(e)) out.push_back(e);
  return out;
}

inline bool has_event(const std::vector<Event>& evs, EventKind kind, uint32_t id) {
  return std::any_of(evs.begin(), evs.end(), [&](const Event& e) { return e.kind == kind && e.stream_id == id; });
}

inline size_t feed_all(Session& s, const Bytes& in, TimePoint now = T0) {
  return s.feed(in, now);
}

// Moves output from one session into the other, `chunk` bytes at a time,
// until neither has anything left to say (or input is refused).
struct Pump {
  Session client;
  Session server;
  explicit Pump(Config cc = {}, Config sc = {}) : client(Role::client, cc, T0), server(Role::server, sc, T0) {}

  static bool move(Session& from, Session& to, size_t chunk) {
    bool progress = false;
    while (!from.output().empty()) {
      auto out = from.output();
      const size_t used = to.feed(out.first(std::min(out.size(), chunk)), T0);
      from.consumed(used);
      if (used == 0) break;
      progress = true;
    }
    return progress;
  }
  void run(size_t chunk = SIZE_MAX) {
    while (move(client, server, chunk) | move(server, client, chunk)) {
    }
  }
};

// Reads everything buffered on a stream.
inline Bytes read_all(Session& s, uint32_t id, Status* last = nullptr) {
  Bytes out;
  uint8_t buf[4096];
  for (;;) {
    IoResult r = s.read(id, buf);
    if (last) *last = r.status;
    if (r.status != Status::ok || r.n == 0) break;
    out.insert(out.end(), buf, buf + r.n);
  }
  return out;
}

}  // namespace sy::yamux::testing
