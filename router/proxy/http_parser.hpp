#pragma once
// Beast's callback parser, used only to find message boundaries and collect
// the head as views into our own read buffer (no copies, no allocation per
// field beyond the reused vector). Bodies are never stored: the body
// callbacks just accept bytes, and the caller relays the raw bytes consumed.
// Include only from the proxy's .cpp files and tests (it pulls in Beast).
#include <boost/beast/http/basic_parser.hpp>

#include "router/proxy/http_head.hpp"

namespace sy::proxy {

namespace http = boost::beast::http;
using boost::beast::error_code;

class RequestParser final : public http::basic_parser<true> {
 public:
  RequestParser(RequestHead& head, uint32_t limit) : head_(head) {
    header_limit(limit);
    body_limit(boost::none);
  }

 private:
  void on_request_impl(http::verb, boost::beast::string_view method, boost::beast::string_view target, int version,
                       error_code&) override {
    head_.method = method;
    head_.target = target;
    head_.version = version;
  }
  void on_response_impl(int, boost::beast::string_view, int, error_code&) override {}
  void on_field_impl(http::field, boost::beast::string_view name, boost::beast::string_view value,
                     error_code&) override {
    FieldKind kind = classify_field(name);
    head_.fields.push_back(Field{name, value, kind});
    if (kind == FieldKind::host && !head_.has_host) {
      head_.host = value;
      head_.has_host = true;
    } else if (kind == FieldKind::connection && names_headers(value)) {
      head_.connection_tokens = true;
    }
  }
  void on_header_impl(error_code&) override {
    head_.keep_alive = keep_alive();
    // Beast's upgrade() only looks at the Connection token; an upgrade also
    // needs an Upgrade header naming the protocol, and HTTP/1.1.
    head_.upgrade = upgrade() && head_.version == 11 && !head_.find("upgrade").empty();
    head_.chunked = chunked();
    if (auto cl = content_length()) head_.content_length = *cl;
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(boost::beast::string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, error_code&) override {
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  RequestHead& head_;
};

class ResponseParser final : public http::basic_parser<false> {
 public:
  explicit ResponseParser(ResponseHead& head) : head_(head) {
    header_limit(1024 * 1024);
    body_limit(boost::none);
  }

 private:
  void on_request_impl(http::verb, boost::beast::string_view, boost::beast::string_view, int, error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view reason, int version, error_code&) override {
    head_.status = code;
    head_.reason = reason;
    head_.version = version;
  }
  void on_field_impl(http::field, boost::beast::string_view name, boost::beast::string_view value,
                     error_code&) override {
    FieldKind kind = classify_field(name);
    head_.fields.push_back(Field{name, value, kind});
    if (kind == FieldKind::connection && names_headers(value)) head_.connection_tokens = true;
  }
  void on_header_impl(error_code&) override {
    head_.keep_alive = keep_alive();
    head_.chunked = chunked();
    if (auto cl = content_length()) head_.content_length = *cl;
  }
  void on_body_init_impl(const boost::optional<std::uint64_t>&, error_code&) override {}
  std::size_t on_body_impl(boost::beast::string_view body, error_code&) override { return body.size(); }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, error_code&) override {
    return body.size();
  }
  void on_finish_impl(error_code&) override {}

  ResponseHead& head_;
};

}  // namespace sy::proxy
