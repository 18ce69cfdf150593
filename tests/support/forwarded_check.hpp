#pragma once
// Did a proxy forward what the client sent, and only that? Compares the
// requests a backend framed (RawBackend) with the requests a correct server
// frames from the client's bytes (frame_stream), allowing exactly the changes
// a gorouter-style proxy makes: origin-form target, Host from an
// absolute-form target, its own framing and hop-by-hop lines, and the
// X-Forwarded-* / X-Vcap-* / X-CF-* headers it owns. Pure; any thread.
#include <string>
#include <vector>

#include "tests/support/rfc9112_framer.hpp"

namespace sy::test {

// "" when `seen` is `sent` as forwarded; otherwise the first difference.
std::string forwarding_difference(const FramedRequest& sent, const FramedRequest& seen);

// Every request the backend saw must be one the client sent, in the order
// sent (the proxy may answer some itself, so `seen` may skip some). "" when
// so; otherwise which seen request is foreign and why.
std::string match_forwarded(const std::vector<FramedRequest>& sent, const std::vector<FramedRequest>& seen);

}  // namespace sy::test
