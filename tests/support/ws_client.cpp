#include "tests/support/ws_client.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

namespace sy::test {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

struct Exchange {
  uint16_t port;
  std::string host;
  std::string target;
  const std::vector<WsMessage>* messages;
  WsResult result;
  bool done = false;
};

asio::awaitable<void> run_exchange(websocket::stream<beast::tcp_stream>& ws, Exchange& ex) {
  const tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), ex.port);
  auto connect_result = co_await beast::get_lowest_layer(ws).async_connect(endpoint, use_tuple);
  auto [connect_ec] = connect_result;
  if (connect_ec) {
    ex.result.error = "connect: " + connect_ec.message();
    co_return;
  }
  websocket::response_type response;
  auto handshake_result = co_await ws.async_handshake(response, ex.host, ex.target, use_tuple);
  auto [handshake_ec] = handshake_result;
  ex.result.handshake_status = static_cast<int>(response.result_int());
  if (handshake_ec) {
    ex.result.error = "handshake: " + handshake_ec.message();
    co_return;
  }
  ex.result.upgraded = true;
  beast::flat_buffer buffer;
  for (const WsMessage& message : *ex.messages) {
    ws.binary(message.binary);
    auto write_result = co_await ws.async_write(asio::buffer(message.payload), use_tuple);
    auto [write_ec, written] = write_result;
    if (write_ec) {
      ex.result.error = "write: " + write_ec.message();
      co_return;
    }
    buffer.clear();
    auto read_result = co_await ws.async_read(buffer, use_tuple);
    auto [read_ec, read] = read_result;
    if (read_ec) {
      ex.result.error = "read: " + read_ec.message();
      co_return;
    }
    ex.result.received.push_back(WsMessage{ws.got_binary(), beast::buffers_to_string(buffer.data())});
  }
  auto close_result = co_await ws.async_close(websocket::close_code::normal, use_tuple);
  auto [close_ec] = close_result;
  ex.result.closed_cleanly = !close_ec;
  if (close_ec) ex.result.error = "close: " + close_ec.message();
  ex.done = true;
}

}  // namespace

WsResult websocket_exchange(uint16_t port, const std::string& host, const std::string& target,
                            const std::vector<WsMessage>& messages, std::chrono::milliseconds timeout) {
  Exchange ex{port, host, target, &messages, {}};  // outlives the io_context and its coroutine frames
  asio::io_context ioc(1);
  websocket::stream<beast::tcp_stream> ws(ioc);
  ws.read_message_max(64 * 1024 * 1024);
  asio::co_spawn(ioc, run_exchange(ws, ex), asio::detached);
  ioc.run_for(timeout);
  if (!ioc.stopped()) {
    if (ex.result.error.empty()) ex.result.error = "timed out";
    beast::get_lowest_layer(ws).close();
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(1000));
  }
  return ex.result;
}

}  // namespace sy::test
