#pragma once
// Session: one client connection, served by one coroutine that owns it
// (Beast's do_session shape): read a request head, route it, forward it with
// retries, relay the response, repeat while keep-alive. See session.cpp.
//
// Threading: the accepting worker only.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace sy::proxy {

class Worker;

// Serves the accepted socket `fd` (non-blocking, from `peer`) until the
// connection ends; takes ownership of it. Never throws.
boost::asio::awaitable<void> serve_connection(Worker& worker, int fd, boost::asio::ip::tcp::endpoint peer);

}  // namespace sy::proxy
