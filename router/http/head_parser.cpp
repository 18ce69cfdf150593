// The strict head parser: lines are split first (HeadScanner has already
// checked every line ends in CRLF), then each field is interpreted once the
// whole head is known, so a folded response value is whole before its
// meaning is read.
#include "router/http/head_parser.hpp"

#include <algorithm>
#include <cstring>

namespace sy::http {
namespace {

enum CharClass : uint8_t { kTchar = 1, kVchar = 2, kTarget = 4, kHost = 8 };

struct Classes {
  uint8_t table[256]{};
  constexpr Classes() {
    for (int c = 0; c < 256; ++c) {
      uint8_t v = 0;
      const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (alnum || std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos)
        v |= kTchar;
      if ((c >= 0x21 && c <= 0x7e) || c >= 0x80 || c == ' ' || c == '\t') v |= kVchar;
      if (c >= 0x21 && c <= 0x7e && c != '#') v |= kTarget;
      if (alnum || std::string_view("-._~!$&'()*+,;=%").find(static_cast<char>(c)) != std::string_view::npos)
        v |= kHost;
      table[c] = v;
    }
  }
};
constexpr Classes kClasses;

bool has(unsigned char c, CharClass k) { return (kClasses.table[c] & k) != 0; }
bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view v) {
  while (!v.empty() && is_ows(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_ows(v.back())) v.remove_suffix(1);
  return v;
}

bool all_of(std::string_view s, CharClass k) {
  for (unsigned char c : s)
    if (!has(c, k)) return false;
  return true;
}

// "HTTP/1.1" -> 11, "HTTP/1.0" -> 10; HTTP/1.x above 1 is served as 1.1
// (RFC 9110 §6.2). -1: not a version; -2: a version we cannot speak.
int parse_version(std::string_view v) {
  if (v.size() != 8 || v.substr(0, 5) != "HTTP/" || v[6] != '.') return -1;
  if (v[5] < '0' || v[5] > '9' || v[7] < '0' || v[7] > '9') return -1;
  if (v[5] != '1') return v[5] == '0' ? -1 : -2;
  return v[7] == '0' ? 10 : 11;
}

// uri-host [ ":" port ] (RFC 9110 §7.2): a reg-name or an IP literal.
bool valid_authority(std::string_view a) {
  std::string_view host = a, port;
  if (!a.empty() && a.front() == '[') {
    size_t close = a.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    for (char c : a.substr(1, close - 1))
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.'))
        return false;
    host = a.substr(0, close + 1);
    std::string_view rest = a.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
  } else {
    size_t colon = a.find(':');
    if (colon != std::string_view::npos) {
      host = a.substr(0, colon);
      port = a.substr(colon + 1);
    }
    if (host.empty() || !all_of(host, kHost)) return false;
  }
  if (port.size() > 5) return false;
  for (char c : port)
    if (c < '0' || c > '9') return false;
  return true;
}

// 1*DIGIT, or a list of equal ones ("5, 5"), into `n`.
HeadError parse_content_length(std::string_view v, bool seen, uint64_t* n) {
  bool any = false;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = trim(v.substr(0, comma));
    if (item.empty() || (comma != std::string_view::npos && comma + 1 == v.size()))
      return HeadError::bad_content_length;
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    uint64_t value = 0;
    for (char c : item) {
      if (c < '0' || c > '9') return HeadError::bad_content_length;
      if (value > (UINT64_MAX / 2 - 9) / 10) return HeadError::bad_content_length;
      value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    if ((seen || any) && value != *n) return HeadError::conflicting_content_length;
    *n = value;
    any = true;
  }
  return any ? HeadError::none : HeadError::bad_content_length;
}

// Appends the codings of one Transfer-Encoding line.
HeadError parse_codings(std::string_view v, Codings* out) {
  static constexpr std::pair<std::string_view, Coding> kKnown[] = {
      {"chunked", Coding::chunked},   {"gzip", Coding::gzip},     {"deflate", Coding::deflate},
      {"compress", Coding::compress}, {"x-gzip", Coding::x_gzip}, {"x-compress", Coding::x_compress}};
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = trim(v.substr(0, comma));
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    if (item.empty()) continue;  // empty list elements are allowed (RFC 9110 §5.6.1)
    if (!all_of(item, kTchar)) return HeadError::bad_transfer_encoding;  // parameters, junk
    Coding found = Coding::unknown;
    for (const auto& [name, coding] : kKnown)
      if (iequals(item, name)) found = coding;
    if (out->count == Codings::kMax) return HeadError::bad_transfer_encoding;
    out->items[out->count++] = found;
  }
  return HeadError::none;
}

// Valid when `chunked` is last and only there.
bool chunked_last(const Codings& c) {
  if (c.count == 0 || c.items[c.count - 1] != Coding::chunked) return false;
  for (uint8_t i = 0; i + 1 < c.count; ++i)
    if (c.items[i] == Coding::chunked) return false;
  return true;
}

struct ConnectionFlags {
  bool close = false, keep_alive = false, upgrade = false;
};

HeadError parse_connection(std::string_view v, ConnectionFlags* flags, ConnectionTokens* tokens) {
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view t = trim(v.substr(0, comma));
    v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
    if (t.empty()) continue;
    if (!all_of(t, kTchar)) return HeadError::bad_connection;
    if (iequals(t, "close")) {
      flags->close = true;
    } else if (iequals(t, "keep-alive")) {
      flags->keep_alive = true;
    } else if (iequals(t, "upgrade")) {
      flags->upgrade = true;
    } else if (!tokens->lists(t)) {
      if (tokens->count == ConnectionTokens::kMax) return HeadError::bad_connection;
      tokens->names[tokens->count++] = t;
    }
  }
  return HeadError::none;
}

// Splits the field lines after the start line into `fields`. `text` points
// at the first field line; the head ends with an empty line. In a response
// (`fold` true) a continuation line is joined to the previous value in place.
HeadError split_fields(char* text, size_t size, bool fold, size_t max_fields, std::vector<Field>* fields) {
  size_t p = 0;
  for (;;) {
    const char* cr = static_cast<const char*>(std::memchr(text + p, '\r', size - p));
    if (!cr || static_cast<size_t>(cr - text) + 1 >= size || cr[1] != '\n') return HeadError::bad_field;
    const size_t eol = static_cast<size_t>(cr - text);
    std::string_view line(text + p, eol - p);
    if (line.empty()) return eol + 2 == size ? HeadError::none : HeadError::bad_field;
    if (is_ows(line.front())) {
      if (!fold) return HeadError::obs_fold;
      if (fields->empty() || !all_of(line, kVchar)) return HeadError::bad_field;
      text[p - 2] = text[p - 1] = ' ';  // CR LF of the line before
      for (size_t i = p; i < eol && is_ows(text[i]); ++i) text[i] = ' ';  // the fold's own indent
      Field& last = fields->back();
      const char* begin = last.value.empty() ? text + p : last.value.data();
      last.value = trim(std::string_view(begin, static_cast<size_t>(text + eol - begin)));
      p = eol + 2;
      continue;
    }
    size_t colon = 0;
    while (colon < line.size() && has(static_cast<unsigned char>(line[colon]), kTchar)) ++colon;
    if (colon == 0 || colon == line.size() || line[colon] != ':') return HeadError::bad_field;
    std::string_view value = line.substr(colon + 1);
    if (!all_of(value, kVchar)) return HeadError::bad_field;
    if (fields->size() >= max_fields) return HeadError::too_many_fields;
    std::string_view name = line.substr(0, colon);
    fields->push_back(Field{name, trim(value), classify_field(name)});
    p = eol + 2;
  }
}

// The meaning of the framing and connection fields, common to both kinds.
struct Interpreted {
  bool has_content_length = false;
  uint64_t content_length = 0;
  bool has_te = false;
  Codings codings;
  ConnectionFlags connection;
  int hosts = 0;
  std::string_view host;
  std::string_view upgrade;  // the first non-empty Upgrade value
};

HeadError interpret(const std::vector<Field>& fields, ConnectionTokens* tokens, Interpreted* in) {
  for (const Field& f : fields) {
    HeadError e = HeadError::none;
    switch (f.kind) {
      case FieldKind::content_length:
        e = parse_content_length(f.value, in->has_content_length, &in->content_length);
        in->has_content_length = true;
        break;
      case FieldKind::transfer_encoding:
        e = parse_codings(f.value, &in->codings);
        in->has_te = true;
        break;
      case FieldKind::connection: e = parse_connection(f.value, &in->connection, tokens); break;
      case FieldKind::host:
        if (++in->hosts > 1) e = HeadError::duplicate_host;
        in->host = f.value;
        break;
      case FieldKind::upgrade:
        if (in->upgrade.empty()) in->upgrade = f.value;
        break;
      default: break;
    }
    if (e != HeadError::none) return e;
  }
  if (in->has_te) {
    if (!chunked_last(in->codings)) return HeadError::bad_transfer_encoding;
    for (uint8_t i = 0; i < in->codings.count; ++i)
      if (in->codings.items[i] == Coding::unknown) return HeadError::unknown_transfer_coding;
  }
  return HeadError::none;
}

HeadError parse_target(RequestHead* out) {
  std::string_view t = out->target;
  if (!all_of(t, kTarget)) return HeadError::bad_target;
  if (t.front() == '/') {
    out->form = TargetForm::origin;
    out->target_path = t;
  } else if (out->method == "CONNECT") {
    if (!valid_authority(t) || t.find(':') == std::string_view::npos) return HeadError::bad_target;
    out->form = TargetForm::authority;
    out->target_authority = t;
  } else if (t == "*") {
    if (out->method != "OPTIONS") return HeadError::bad_target;
    out->form = TargetForm::asterisk;
  } else {
    size_t scheme = t.find("://");
    if (scheme == std::string_view::npos || !(iequals(t.substr(0, scheme), "http") || iequals(t.substr(0, scheme), "https")))
      return HeadError::bad_target;
    std::string_view rest = t.substr(scheme + 3);
    size_t end = rest.find_first_of("/?");
    std::string_view authority = rest.substr(0, end);
    if (authority.find('@') != std::string_view::npos || !valid_authority(authority)) return HeadError::bad_target;
    out->form = TargetForm::absolute;
    out->target_authority = authority;
    out->target_path = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  }
  if (out->method == "CONNECT" && out->form != TargetForm::authority) return HeadError::bad_target;
  return HeadError::none;
}

HeadError parse_request_line(std::string_view line, RequestHead* out) {
  size_t sp = 0;
  while (sp < line.size() && has(static_cast<unsigned char>(line[sp]), kTchar)) ++sp;
  if (sp == 0 || sp == line.size()) return HeadError::bad_method;
  if (line[sp] != ' ') return HeadError::bad_method;
  out->method = line.substr(0, sp);
  size_t sp2 = line.find(' ', sp + 1);
  if (sp2 == std::string_view::npos || sp2 == sp + 1) return HeadError::bad_start_line;
  out->target = line.substr(sp + 1, sp2 - sp - 1);
  int version = parse_version(line.substr(sp2 + 1));
  if (version == -2) return HeadError::unsupported_version;
  if (version < 0) return HeadError::bad_version;
  out->version = version;
  return parse_target(out);
}

}  // namespace

bool is_tchar(unsigned char c) { return has(c, kTchar); }
bool is_field_vchar(unsigned char c) { return has(c, kVchar); }

std::string_view to_string(HeadError e) {
  static constexpr std::string_view kNames[] = {
      "none", "too_large", "too_many_fields", "bare_lf", "bad_start_line", "bad_method", "bad_target",
      "bad_version", "unsupported_version", "bad_field", "obs_fold", "bad_content_length",
      "conflicting_content_length", "bad_transfer_encoding", "unknown_transfer_coding", "te_with_content_length",
      "te_in_http10", "missing_host", "duplicate_host", "bad_host", "bad_connection", "bad_status"};
  return kNames[static_cast<size_t>(e)];
}

int request_error_status(HeadError e) {
  switch (e) {
    case HeadError::too_large:
    case HeadError::too_many_fields: return 431;
    case HeadError::unsupported_version: return 505;
    case HeadError::unknown_transfer_coding: return 501;
    default: return 400;
  }
}

HeadScanner::Result HeadScanner::scan(std::string_view data) {
  const size_t end = std::min(data.size(), max_bytes_);  // nothing past the limit is looked at
  while (pos_ < end) {
    const void* nl = std::memchr(data.data() + pos_, '\n', end - pos_);
    if (!nl) {
      pos_ = end;
      break;
    }
    const size_t at = static_cast<size_t>(static_cast<const char*>(nl) - data.data());
    if (at == line_start_ || data[at - 1] != '\r') return {Status::error, 0, HeadError::bare_lf};
    const bool empty = at - 1 == line_start_;
    pos_ = line_start_ = at + 1;
    if (!empty) {
      seen_start_line_ = true;
    } else if (seen_start_line_) {
      return {Status::complete, at + 1, HeadError::none};
    }  // else: an empty line before the request line, ignored (RFC 9112 §2.2)
  }
  if (data.size() >= max_bytes_) return {Status::error, 0, HeadError::too_large};
  return {Status::incomplete};
}

HeadError parse_request_head(std::string_view head, const HeadLimits& limits, RequestHead* out) {
  size_t p = 0;
  while (p + 1 < head.size() && head[p] == '\r' && head[p + 1] == '\n') p += 2;
  size_t eol = head.find("\r\n", p);
  if (eol == std::string_view::npos) return HeadError::bad_start_line;
  if (HeadError e = parse_request_line(head.substr(p, eol - p), out); e != HeadError::none) return e;
  // Request fields are never modified (no folding), so the cast is safe.
  char* fields = const_cast<char*>(head.data()) + eol + 2;
  if (HeadError e = split_fields(fields, head.size() - eol - 2, false, limits.max_fields, &out->fields);
      e != HeadError::none)
    return e;
  Interpreted in;
  if (HeadError e = interpret(out->fields, &out->connection, &in); e != HeadError::none) return e;
  if (in.has_te) {
    if (out->version == 10) return HeadError::te_in_http10;
    if (in.has_content_length) return HeadError::te_with_content_length;
    out->body = BodyKind::chunked;
    out->codings = in.codings;
  } else if (in.has_content_length) {
    out->body = BodyKind::length;
    out->content_length = in.content_length;
  }
  if (in.hosts == 0 && out->version == 11) return HeadError::missing_host;
  if (in.hosts == 1 && !in.host.empty() && !valid_authority(in.host)) return HeadError::bad_host;
  out->has_host = in.hosts == 1 || out->form == TargetForm::absolute;
  out->host = out->form == TargetForm::absolute ? out->target_authority : in.host;
  out->keep_alive = out->version == 11 ? !in.connection.close : in.connection.keep_alive && !in.connection.close;
  out->upgrade = out->version == 11 && in.connection.upgrade && !in.upgrade.empty();
  if (out->upgrade) out->upgrade_protocol = in.upgrade;
  return HeadError::none;
}

HeadError parse_response_head(char* head, size_t length, const HeadLimits& limits, ResponseHead* out) {
  std::string_view text(head, length);
  size_t eol = text.find("\r\n");
  if (eol == std::string_view::npos) return HeadError::bad_start_line;
  std::string_view line = text.substr(0, eol);
  if (line.size() < 12 || line[8] != ' ') return HeadError::bad_start_line;
  int version = parse_version(line.substr(0, 8));
  if (version < 0) return HeadError::bad_version;
  out->version = version;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (line[i] < '0' || line[i] > '9') return HeadError::bad_status;
    status = status * 10 + (line[i] - '0');
  }
  if (status < 100) return HeadError::bad_status;
  out->status = status;
  if (line.size() > 12) {
    if (line[12] != ' ' || !all_of(line.substr(13), kVchar)) return HeadError::bad_start_line;
    out->reason = line.substr(13);
  }
  if (HeadError e = split_fields(head + eol + 2, length - eol - 2, true, limits.max_fields, &out->fields);
      e != HeadError::none)
    return e;
  Interpreted in;
  if (HeadError e = interpret(out->fields, &out->connection, &in); e != HeadError::none) return e;
  // RFC 9112 §6.1: framing an HTTP/1.0 message with Transfer-Encoding is
  // faulty (a 1.0 recipient reads the body to the close instead).
  if (in.has_te && out->version == 10) return HeadError::te_in_http10;
  out->chunked = in.has_te;  // interpret() refused any other final coding
  out->codings = in.codings;
  out->has_content_length = in.has_content_length && !in.has_te;  // TE overrides (RFC 9112 §6.3)
  out->content_length = out->has_content_length ? in.content_length : 0;
  out->keep_alive = out->version == 11 ? !in.connection.close : in.connection.keep_alive && !in.connection.close;
  return HeadError::none;
}

}  // namespace sy::http
