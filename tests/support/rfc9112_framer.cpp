// The framer's grammar follows RFC 9112 §2-§7 and RFC 9110 §5.5-§5.6 line by
// line; see rfc9112_framer.hpp for what it refuses and what it flags.
#include "tests/support/rfc9112_framer.hpp"

#include <algorithm>
#include <cctype>
#include <cstdint>

namespace sy::test {
namespace {

constexpr size_t kMaxHead = 4 * 1024 * 1024;
constexpr size_t kMaxChunkLine = 4096;
constexpr size_t kMaxBody = 64 * 1024 * 1024;

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ows(char c) { return c == ' ' || c == '\t'; }

bool is_tchar(char c) {
  return is_alpha(c) || is_digit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// field-vchar / obs-text / SP / HTAB (RFC 9110 §5.5).
bool is_value_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (u >= 0x21 && u <= 0x7e) || u >= 0x80 || c == ' ' || c == '\t';
}

bool all_tchar(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_tchar(c)) return false;
  return true;
}

std::string_view trim(std::string_view v) {
  while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
  return v;
}

// Comma-separated list elements, trimmed, empty ones dropped (RFC 9110 §5.6.1).
std::vector<std::string_view> list_elements(std::string_view v) {
  std::vector<std::string_view> out;
  while (true) {
    const size_t comma = v.find(',');
    std::string_view item = trim(v.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) return out;
    v.remove_prefix(comma + 1);
  }
}

// uri-host [ ":" port ]: a reg-name or an IP literal (RFC 9110 §7.2, RFC 3986).
bool valid_authority(std::string_view a) {
  std::string_view port;
  if (!a.empty() && a.front() == '[') {
    const size_t close = a.find(']');
    if (close == std::string_view::npos || close < 3) return false;
    for (char c : a.substr(1, close - 1))
      if (!(is_digit(c) || (lower(c) >= 'a' && lower(c) <= 'f') || c == ':' || c == '.')) return false;
    std::string_view rest = a.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    port = rest.empty() ? rest : rest.substr(1);
  } else {
    const size_t colon = a.find(':');
    const std::string_view host = a.substr(0, colon);
    if (host.empty()) return false;
    for (char c : host)
      if (!(is_alpha(c) || is_digit(c) || std::string_view("-._~!$&'()*+,;=%").find(c) != std::string_view::npos))
        return false;
    if (colon != std::string_view::npos) port = a.substr(colon + 1);
  }
  for (char c : port)
    if (!is_digit(c)) return false;
  return port.size() <= 5;
}

// Splits a head (after leading empty lines) into its lines. Every line must
// end in CR LF; the head ends at the first empty line.
FrameResult::Status split_lines(std::string_view data, size_t start, std::vector<std::string_view>* lines,
                                size_t* end, std::string* error) {
  size_t line_start = start;
  for (size_t i = start; i < data.size(); ++i) {
    if (i - start > kMaxHead) return *error = "head over 4 MiB", FrameResult::Status::error;
    if (data[i] == '\n') return *error = "bare LF", FrameResult::Status::error;
    if (data[i] != '\r') continue;
    if (i + 1 == data.size()) break;
    if (data[i + 1] != '\n') return *error = "bare CR", FrameResult::Status::error;
    if (i == line_start) {
      *end = i + 2;
      return FrameResult::Status::complete;
    }
    lines->push_back(data.substr(line_start, i - line_start));
    line_start = ++i + 1;
  }
  return FrameResult::Status::incomplete;
}

bool parse_version(std::string_view v, int* version) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.' || !is_digit(v[5]) || !is_digit(v[7])) return false;
  if (v[5] != '1') return false;
  *version = v[7] == '0' ? 10 : 11;  // 1.x above 1.1 is read as 1.1 (RFC 9110 §6.2)
  return true;
}

// The four target forms of RFC 9112 §3.2, each only where it belongs.
std::string check_target(const FramedRequest& r) {
  const std::string& t = r.target;
  for (char c : t)
    if (static_cast<unsigned char>(c) < 0x21 || static_cast<unsigned char>(c) > 0x7e || c == '#')
      return "target byte outside visible ASCII or '#'";
  if (r.method == "CONNECT") return valid_authority(t) && t.find(':') != std::string::npos ? "" : "bad authority-form";
  if (t.front() == '/') return "";
  if (t == "*") return r.method == "OPTIONS" ? "" : "asterisk-form without OPTIONS";
  const size_t scheme = t.find("://");
  if (scheme == std::string::npos) return "target in no form";
  if (!equal_nocase(t.substr(0, scheme), "http") && !equal_nocase(t.substr(0, scheme), "https"))
    return "absolute-form with a scheme other than http(s)";
  const std::string_view rest = std::string_view(t).substr(scheme + 3);
  const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
  if (authority.find('@') != std::string_view::npos) return "userinfo in the target";
  return valid_authority(authority) ? "" : "bad authority in the target";
}

std::string parse_request_line(std::string_view line, FramedRequest* r) {
  const size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos || !all_tchar(line.substr(0, sp1))) return "bad method";
  const size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || sp2 == sp1 + 1) return "bad request-line";
  r->method = line.substr(0, sp1);
  r->target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (!parse_version(line.substr(sp2 + 1), &r->version)) return "bad HTTP-version";
  return check_target(*r);
}

std::string parse_field_line(std::string_view line, std::vector<std::pair<std::string, std::string>>* out) {
  if (is_ows(line.front())) return "obs-fold";
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || !all_tchar(line.substr(0, colon))) return "bad field name";
  const std::string_view value = trim(line.substr(colon + 1));
  for (char c : value)
    if (!is_value_char(c)) return "control character in a field value";
  out->emplace_back(std::string(line.substr(0, colon)), std::string(value));
  return "";
}

// Content-Length: 1*DIGIT, or a list of equal values (RFC 9110 §8.6).
std::string read_content_length(const FramedRequest& r, bool* present, uint64_t* length) {
  for (const auto& [name, value] : r.headers) {
    if (!equal_nocase(name, "content-length")) continue;
    if (value.empty()) return "empty Content-Length";
    for (std::string_view item : list_elements(value)) {
      if (item.size() > 15) return "Content-Length too large";
      uint64_t n = 0;
      for (char c : item) {
        if (!is_digit(c)) return "Content-Length not a number";
        n = n * 10 + static_cast<uint64_t>(c - '0');
      }
      if (*present && n != *length) return "Content-Lengths disagree";
      *present = true;
      *length = n;
    }
    if (list_elements(value).empty()) return "empty Content-Length";
  }
  return "";
}

// Transfer-Encoding over all its lines: the codings, in order.
std::string read_codings(const FramedRequest& r, bool* present, std::vector<std::string>* codings) {
  for (const auto& [name, value] : r.headers) {
    if (!equal_nocase(name, "transfer-encoding")) continue;
    *present = true;
    for (std::string_view item : list_elements(value)) {
      size_t n = 0;
      while (n < item.size() && is_tchar(item[n])) ++n;
      const std::string_view rest = trim(item.substr(n));
      if (n == 0 || (!rest.empty() && rest.front() != ';')) return "bad transfer-coding";
      std::string coding(item.substr(0, n));
      for (char& c : coding) c = lower(c);
      codings->push_back(coding);
    }
  }
  return "";
}

// Sets r->framing; `length` is the Content-Length when that frames the body.
std::string decide_framing(FramedRequest* r, uint64_t* length) {
  bool has_length = false, has_te = false;
  std::vector<std::string> codings;
  if (std::string e = read_content_length(*r, &has_length, length); !e.empty()) return e;
  if (std::string e = read_codings(*r, &has_te, &codings); !e.empty()) return e;
  if (!has_te) {
    r->framing = has_length ? FramedRequest::Framing::length : FramedRequest::Framing::none;
    return "";
  }
  if (r->version == 10) return "Transfer-Encoding in HTTP/1.0";
  if (codings.empty() || codings.back() != "chunked") return "final transfer-coding is not chunked";
  for (size_t i = 0; i + 1 < codings.size(); ++i) {
    static constexpr std::string_view kKnown[] = {"gzip", "deflate", "compress", "x-gzip", "x-compress"};
    if (codings[i] == "chunked") {
      r->ambiguities.push_back("chunked applied twice");
    } else if (std::find(std::begin(kKnown), std::end(kKnown), codings[i]) == std::end(kKnown)) {
      return "unknown transfer-coding " + codings[i];
    }
  }
  if (has_length) r->ambiguities.push_back("Transfer-Encoding with Content-Length");
  r->framing = FramedRequest::Framing::chunked;
  return "";
}

std::string check_fields(FramedRequest* r, uint64_t* length) {
  const size_t hosts = r->count("host");
  if (hosts > 1) return "more than one Host";
  if (hosts == 0 && r->version == 11) return "no Host";
  if (hosts == 1 && !r->header("host").empty() && !valid_authority(r->header("host"))) return "bad Host";
  bool close = r->version == 10, keep_alive = false;
  for (const auto& [name, value] : r->headers) {
    if (!equal_nocase(name, "connection")) continue;
    for (std::string_view token : list_elements(value)) {
      if (equal_nocase(token, "close")) close = true, keep_alive = false;
      if (equal_nocase(token, "keep-alive") && r->version == 10) keep_alive = true;
    }
  }
  r->close = close && !keep_alive;
  return decide_framing(r, length);
}

// chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112 §7.1.1).
bool valid_chunk_ext(std::string_view e) {
  auto skip_bws = [&e] {
    while (!e.empty() && is_ows(e.front())) e.remove_prefix(1);
  };
  auto token = [&e] {
    size_t n = 0;
    while (n < e.size() && is_tchar(e[n])) ++n;
    e.remove_prefix(n);
    return n > 0;
  };
  while (!e.empty()) {
    skip_bws();
    if (e.empty() || e.front() != ';') return false;
    e.remove_prefix(1);
    skip_bws();
    if (!token()) return false;
    skip_bws();
    if (e.empty() || e.front() != '=') continue;
    e.remove_prefix(1);
    skip_bws();
    if (!e.empty() && e.front() == '"') {
      const size_t close = e.find('"', 1);
      if (close == std::string_view::npos) return false;
      e.remove_prefix(close + 1);
    } else if (!token()) {
      return false;
    }
  }
  return true;
}

// One CRLF-terminated line of a chunked body at `pos`.
FrameResult::Status chunk_line(std::string_view data, size_t* pos, std::string_view* line, std::string* error) {
  for (size_t i = *pos; i < data.size() && i - *pos <= kMaxChunkLine; ++i) {
    if (data[i] == '\n') return *error = "bare LF in the chunked body", FrameResult::Status::error;
    if (data[i] != '\r') continue;
    if (i + 1 == data.size()) return FrameResult::Status::incomplete;
    if (data[i + 1] != '\n') return *error = "bare CR in the chunked body", FrameResult::Status::error;
    *line = data.substr(*pos, i - *pos);
    *pos = i + 2;
    return FrameResult::Status::complete;
  }
  if (data.size() - *pos > kMaxChunkLine) return *error = "chunk line too long", FrameResult::Status::error;
  return FrameResult::Status::incomplete;
}

FrameResult::Status read_trailers(std::string_view data, size_t* pos, FramedRequest* r, std::string* error) {
  std::vector<std::pair<std::string, std::string>> fields;
  while (true) {
    std::string_view line;
    const FrameResult::Status s = chunk_line(data, pos, &line, error);
    if (s != FrameResult::Status::complete) return s;
    if (line.empty()) return FrameResult::Status::complete;
    if (*error = parse_field_line(line, &fields); !error->empty()) return FrameResult::Status::error;
    r->trailers.append(line).append("\r\n");
  }
}

FrameResult::Status read_chunked(std::string_view data, size_t* pos, FramedRequest* r, std::string* error) {
  while (true) {
    std::string_view line;
    const FrameResult::Status s = chunk_line(data, pos, &line, error);
    if (s != FrameResult::Status::complete) return s;
    size_t digits = 0;
    uint64_t size = 0;
    for (; digits < line.size() && std::isxdigit(static_cast<unsigned char>(line[digits])); ++digits) {
      const char c = lower(line[digits]);
      size = size * 16 + static_cast<uint64_t>(is_digit(c) ? c - '0' : c - 'a' + 10);
    }
    if (digits == 0 || digits > 15 || !valid_chunk_ext(line.substr(digits))) {
      *error = "bad chunk-size line";
      return FrameResult::Status::error;
    }
    if (size == 0) return read_trailers(data, pos, r, error);
    if (r->body.size() + size > kMaxBody) return *error = "chunked body over 64 MiB", FrameResult::Status::error;
    if (data.size() - *pos < size + 2) return FrameResult::Status::incomplete;
    if (data.substr(*pos + size, 2) != "\r\n") {
      *error = "chunk data not followed by CRLF";
      return FrameResult::Status::error;
    }
    r->body.append(data.substr(*pos, size));
    *pos += size + 2;
  }
}

}  // namespace

std::string FramedRequest::header(std::string_view name) const {
  for (const auto& [n, v] : headers)
    if (equal_nocase(n, name)) return v;
  return {};
}

size_t FramedRequest::count(std::string_view name) const {
  return static_cast<size_t>(
      std::count_if(headers.begin(), headers.end(), [&](const auto& h) { return equal_nocase(h.first, name); }));
}

std::string FramedRequest::host() const {
  const size_t scheme = target.find("://");
  if (target.empty() || target.front() == '/' || scheme == std::string::npos) return header("host");
  const std::string rest = target.substr(scheme + 3);
  return rest.substr(0, rest.find_first_of("/?"));
}

std::string FramedRequest::origin_target() const {
  const size_t scheme = target.find("://");
  if (target.empty() || target.front() == '/' || scheme == std::string::npos) return target;
  const size_t path = target.find_first_of("/?", scheme + 3);
  if (path == std::string::npos) return "/";
  return target[path] == '?' ? "/" + target.substr(path) : target.substr(path);
}

std::string FramedRequest::describe() const {
  return method + " " + target + " (Host " + host() + ", " + std::to_string(body.size()) + " body bytes)";
}

std::string printable(std::string_view bytes, size_t max) {
  std::string out;
  for (unsigned char c : bytes.substr(0, max)) {
    static constexpr char kHex[] = "0123456789abcdef";
    if (c == '\r') out += "\\r";
    else if (c == '\n') out += "\\n";
    else if (c == '\t') out += "\\t";
    else if (c == '\\') out += "\\\\";
    else if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else out += std::string("\\x") + kHex[c >> 4] + kHex[c & 15];
  }
  if (bytes.size() > max) out += "...(" + std::to_string(bytes.size()) + " bytes)";
  return out;
}

bool equal_nocase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

FrameResult frame_request(std::string_view data) {
  FrameResult result;
  size_t start = 0;
  while (data.substr(start, 2) == "\r\n") start += 2;  // empty lines before a request (RFC 9112 §2.2)
  std::vector<std::string_view> lines;
  size_t pos = 0;
  result.status = split_lines(data, start, &lines, &pos, &result.error);
  if (result.status != FrameResult::Status::complete) return result;
  FramedRequest& r = result.request;
  result.error = lines.empty() ? "no request-line" : parse_request_line(lines[0], &r);
  for (size_t i = 1; i < lines.size() && result.error.empty(); ++i) result.error = parse_field_line(lines[i], &r.headers);
  uint64_t length = 0;
  if (result.error.empty()) result.error = check_fields(&r, &length);
  if (!result.error.empty()) {
    result.status = FrameResult::Status::error;
    return result;
  }
  if (r.framing == FramedRequest::Framing::length) {
    if (data.size() - pos < length) return result.status = FrameResult::Status::incomplete, result;
    r.body.assign(data.substr(pos, length));
    pos += length;
  } else if (r.framing == FramedRequest::Framing::chunked) {
    result.status = read_chunked(data, &pos, &r, &result.error);
    if (result.status != FrameResult::Status::complete) return result;
  }
  result.status = FrameResult::Status::complete;
  result.length = pos;
  return result;
}

FramedStream frame_stream(std::string_view data) {
  FramedStream stream;
  while (!data.empty()) {
    FrameResult r = frame_request(data);
    if (r.status == FrameResult::Status::incomplete) {
      stream.incomplete = data.find_first_not_of("\r\n") != std::string_view::npos;
      stream.stop = stream.incomplete ? "incomplete request" : "";
      return stream;
    }
    if (r.status == FrameResult::Status::error) return stream.stop = r.error, stream;
    if (!r.request.ambiguities.empty()) return stream.stop = "ambiguous: " + r.request.ambiguities[0], stream;
    data.remove_prefix(r.length);
    const bool close = r.request.close;
    stream.requests.push_back(std::move(r.request));
    if (close && !data.empty()) return stream.stop = "bytes after a request that closes the connection", stream;
  }
  return stream;
}

}  // namespace sy::test
